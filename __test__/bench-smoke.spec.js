'use strict'
// Smoke test of the benchmark harness (bench/run.js) in quick mode, for krafka,
// the native ceiling, the JS floor and the promise-per-record reference only:
// every scenario must yield numbers.
// No timing assertions: benchmarks are not tests (see bench/README.md).
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { root, plaintext } = require('./helpers')

const host = /host: (\S+)/.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))[1]

test.before(() => {
  // The native ceiling, in napi's target dir and triple so the vendored librdkafka
  // stack is reused; a no-op when it is up to date. Not part of the timed run below.
  const r = spawnSync('cargo', ['build', '--release', '--target', host, '-p', 'krafka-bench'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
  assert.equal(r.status, 0, 'cargo build -p krafka-bench failed')
})

test('bench harness (BENCH_QUICK=1) yields numbers for krafka, the native ceiling, the JS floor and the promise reference', { timeout: 60000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'krafka-bench-smoke-'))
  const out = path.join(dir, 'BENCHMARKS.md')
  const json = path.join(dir, 'results.json')
  const env = {
    ...process.env,
    BENCH_QUICK: '1',
    BENCH_CONTENDERS: 'native,floor,krafka,promise',
    BENCH_OUT: out,
    BENCH_JSON: json,
    BENCH_BUILD: '0',
    KAFKA_BOOTSTRAP: plaintext()['bootstrap.servers'],
  }
  let stderr = ''
  const code = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bench', 'run.js')], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', resolve)
  })
  assert.equal(code, 0, `bench/run.js failed:\n${stderr}`)
  const rep = JSON.parse(fs.readFileSync(json, 'utf8'))
  const rows = rep.results
  const want = [
    // idleLoopP99Ms: an idle Node event loop measured beside the ceiling's produce (run.js idleLoop).
    ['native', 'produce', ['msgsPerSec', 'mbPerSec', 'cpuSeconds', 'idleLoopP99Ms']],
    ['native', 'await', ['p50Ms', 'p99Ms', 'samples']],
    ['native', 'consume', ['msgsPerSec']],
    ['native', 'e2e', ['p50Ms', 'p99Ms', 'samples']],
    ['floor', 'consume', ['msgsPerSec', 'cpuSeconds']],
    ['krafka', 'produce', ['msgsPerSec', 'mbPerSec', 'cpuSeconds', 'eldP99Ms']],
    // The promise-per-record reference beside krafka's send() (contenders/promise.js), on the real broker.
    ['promise', 'produce', ['msgsPerSec', 'cpuSeconds', 'eldP99Ms']],
    ['krafka', 'await', ['p50Ms', 'p99Ms', 'samples']],
    ['krafka', 'consume', ['msgsPerSec', 'cpuSeconds', 'eldP99Ms']],
    ['krafka', 'e2e', ['p50Ms', 'p99Ms', 'samples']],
  ]
  for (const [contender, scenario, keys] of want) {
    const entries = rows.filter((r) => r.contender === contender && r.scenario === scenario)
    assert.ok(entries.length > 0, `no ${contender} ${scenario} row`)
    for (const e of entries) {
      const what = `${contender} ${scenario}${e.variant ? ` [${e.variant}]` : ''}`
      assert.deepEqual(e.errors, [], `${what} failed`)
      assert.ok(e.median, `${what}: no result`)
      for (const k of keys) assert.ok(e.median[k] > 0, `${what}: ${k} = ${e.median[k]}`)
    }
  }
  // krafka's consume runs all three documented iterators.
  const variants = rows.filter((r) => r.contender === 'krafka' && r.scenario === 'consume').map((r) => r.variant)
  assert.deepEqual(variants.sort(), ['batches', 'for-await', 'raw'])
  // ... and both of its pipelined paths: send() and the columnar sendRaw().
  const produced = rows.filter((r) => r.contender === 'krafka' && r.scenario === 'produce').map((r) => r.variant)
  assert.deepEqual(produced.sort(), ['send', 'sendRaw'])
  const md = fs.readFileSync(out, 'utf8')
  assert.match(md, /## 1\. Pipelined produce/)
  assert.match(md, /an idle Node event loop in a process of its own beside the ceiling's produce: [\d.]+ ms/)
  // Every produce run, the native ceiling's too, sent its warm-up records untimed first (and says so).
  for (const r of rows.filter((r) => r.scenario === 'produce' && r.contender !== 'floor')) {
    assert.equal(r.median.warmup, 5000, `${r.contender} produce [${r.variant}]: warm-up`)
    // ... and measured its producing thread's CPU (Linux schedstat) for the per-thread table.
    const producing = r.contender === 'native' ? 'main' : 'event-loop'
    for (const run of r.runs) assert.ok(run.threadCpuMs[producing] > 0, `${r.contender} produce [${r.variant}]: ${JSON.stringify(run.threadCpuMs)}`)
  }
  assert.match(md, /after 5,000 records sent the same way by the same producer untimed/)
  assert.match(md, /\| krafka \| sendRaw\(\)[^\n]*\| \d[\d,]* \| \d[\d,]* \| \d[\d,]* \| \d[\d,]* \| \d[\d,]* \|\n/)
  assert.match(md, /## Targets/)
  // krafka's send() event-loop figure stands beside the reference's at the same cap.
  assert.match(md, /produce send\(\) [\d.]+ ms \([^)]*the promise-per-record reference [\d.]+ ms\)/)
  assert.match(md, /pipelined produce with no object per record \(sendRaw\(\)\) ≥ 0\.90 × native \| \d/)
  assert.match(md, /BENCH_QUICK=1/)
  // The broker's CPU beside each produce run (it shares the CPUs here): a
  // number of seconds, in the raw runs and in its column.
  for (const r of rows.filter((r) => r.scenario === 'produce' && r.contender !== 'floor')) {
    for (const run of r.runs) assert.ok(run.brokerCpuSeconds >= 0 && run.brokerSystemCpuSeconds >= 0, `${r.contender} produce [${r.variant}]: broker CPU ${run.brokerCpuSeconds}`)
  }
  assert.match(md, /\| CPU s \| broker CPU s \|/)
  // Every topic the run made is dropped and its files gone before it ends
  // (env-up.sh's broker deletes at once; run.js waits for it).
  const left = fs.readdirSync(path.join(root, 'test-env', 'kafka-data')).filter((d) => d.startsWith('krafka-bench-'))
  assert.deepEqual(left, [])
  fs.rmSync(dir, { recursive: true, force: true })
})

test("bench's verdicts against the native ceiling use the median's distribution-free interval", () => {
  const { medianInterval } = require(path.join(root, 'bench', 'lib', 'common.js'))
  const ratios = (n) => Array.from({ length: n }, (_, i) => (80 + i) / 100).reverse() // unsorted on purpose
  // 5 rounds: the lowest to the highest, 1 - 2/32 = 93.75 % (the rule the targets always had).
  assert.deepEqual(medianInterval(ratios(5)), { low: 0.8, high: 0.84, level: 0.9375 })
  // 9 rounds: one slow and one fast round fall outside, 1 - 2*10/512.
  const nine = medianInterval(ratios(9))
  assert.deepEqual([nine.low, nine.high], [0.81, 0.87])
  assert.equal(nine.level, 1 - 20 / 512)
  // 12 rounds: the third lowest to the third highest, never below 90 %.
  const twelve = medianInterval(ratios(12))
  assert.deepEqual([twelve.low, twelve.high], [0.82, 0.89])
  assert.ok(twelve.level >= 0.9 && twelve.level < 0.97, String(twelve.level))
  // Failed runs (null, NaN) are left out; none at all gives null.
  assert.deepEqual(medianInterval([0.9, null, NaN, 1, 0.95]), { low: 0.9, high: 1, level: 0.75 })
  assert.equal(medianInterval([]), null)
})

test('bench/producer-js-cost.js measures per-record CPU with its stand-in addon and on the mock cluster', { timeout: 60000 }, () => {
  // A profiling aid, not a benchmark: only that both modes run and print a figure.
  for (const mode of [[], ['mock']]) {
    const r = spawnSync(process.execPath, ['bench/producer-js-cost.js', '200000', 'sendRaw', ...mode], { cwd: root, encoding: 'utf8', timeout: 50000 })
    assert.equal(r.status, 0, r.stderr)
    const m = /^200,000 sendRaw\(\) records.*, (\d+) ns per record$/m.exec(r.stdout)
    assert.ok(m && Number(m[1]) > 0, `${mode.join(' ') || 'stand-in'}: ${r.stdout}`)
    if (mode.length) assert.match(r.stdout, /to the mock cluster: .* event-loop thread CPU/)
  }
})
