'use strict'
// What event-loop delay this machine allows any Node process while Kafka
// traffic runs at full rate, with no Kafka client in that process at all: an
// event loop with nothing to do (`monitorEventLoopDelay`, 1 ms resolution, as
// the benchmark measures) runs beside the native ceiling's pipelined produce
// (scenario 1's settings, 3,000,000 records so the window is long enough) and
// reports its p99 over the middle of the run. A Node client's own loop also
// runs its work and sleeps between delivery batches, so it can only do worse.
// The same loop on the quiet machine is printed first. Not a contender: a
// reference for the event-loop target (see bench/README.md).
//
//   npm run env:up && node bench/loop-floor.js [rounds]    # default 5

const { spawn, execFileSync } = require('node:child_process')
const path = require('node:path')
const fs = require('node:fs')

const root = path.join(__dirname, '..')
const rounds = Number(process.argv[2] || 5)
const bootstrap = process.env.KAFKA_BOOTSTRAP || JSON.parse(fs.readFileSync(path.join(root, 'test-env', 'env.json'), 'utf8')).bootstrap.plaintext
const triple = /host: (\S+)/.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))[1]
const bin = process.env.BENCH_NATIVE_BIN || path.join(root, 'target', triple, 'release', 'krafka-bench')

/** The idle loop, in a process of its own: p99/max (ms) and samples over [startMs, startMs + lenMs]. */
const IDLE = `
  const { monitorEventLoopDelay } = require('node:perf_hooks')
  const [start, len] = process.argv.slice(1).map(Number)
  setTimeout(() => {
    const h = monitorEventLoopDelay({ resolution: 1 })
    h.enable()
    setTimeout(() => {
      h.disable()
      console.log(JSON.stringify({ p99: h.percentile(99) / 1e6, max: h.max / 1e6, samples: h.count }))
    }, len)
  }, start)`

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.on('error', reject)
    c.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()) : reject(new Error(`${cmd} exited ${code}`))))
  })
}

const idle = (startMs, lenMs) => run(process.execPath, ['-e', IDLE, String(startMs), String(lenMs)]).then(JSON.parse)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main() {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build --release --target ${triple} -p krafka-bench`)
  const { Admin } = require(root)
  const admin = new Admin({ 'bootstrap.servers': bootstrap, 'broker.address.family': 'v4' })
  const quiet = await idle(0, 1500)
  console.log(`quiet machine: idle loop p99 ${quiet.p99.toFixed(2)} ms (max ${quiet.max.toFixed(2)}, ${quiet.samples} samples)`)
  const p99s = []
  for (let i = 1; i <= rounds; i++) {
    const topic = `loop-floor-${Date.now()}-${i}`
    await admin.createTopics([{ topic, numPartitions: 3, replicationFactor: 1 }])
    execFileSync('sync')
    // Connection and warm-up take well under 1 s here and 3,000,000 records over 1 s: 1.0 to 2.2 s is traffic.
    const [native, loop] = await Promise.all([
      run(bin, ['produce', '--bootstrap', bootstrap, '--topic', topic, '--count', '3000000', '--warmup', '100000', '--size', '100', '--max-in-flight', '50000', '--pset', 'linger.ms=5']).then(JSON.parse),
      idle(1000, 1200),
    ])
    await admin.deleteTopics([topic]).catch(() => {})
    p99s.push(loop.p99)
    console.log(`round ${i}: native ceiling ${(native.msgsPerSec / 1e6).toFixed(2)} M msg/s over ${native.seconds.toFixed(2)} s; idle loop beside it p99 ${loop.p99.toFixed(2)} ms (max ${loop.max.toFixed(2)}, ${loop.samples} samples)`)
  }
  console.log(`median of ${rounds} rounds: idle loop p99 ${median(p99s).toFixed(2)} ms while the native ceiling produces`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
