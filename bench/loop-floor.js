'use strict'
// What event-loop delay this machine allows any Node process while Kafka
// traffic runs at full rate, with no Kafka client in that process at all: an
// event loop with nothing to do (`monitorEventLoopDelay`, 1 ms resolution, as
// the benchmark measures) runs beside the native ceiling's pipelined produce
// (scenario 1's settings, 3,000,000 records so the window is long enough) and
// reports its p99 over the ceiling's timed window (lib/idle-loop.js, as run.js
// does beside every produce run of the ceiling). A Node client's own loop also
// runs its work and sleeps between delivery batches, so it can only do worse.
// The same loop on the quiet machine is printed first. Not a contender: a
// reference for the event-loop target (see bench/README.md).
//
//   npm run env:up && node bench/loop-floor.js [rounds]    # default 5

const { spawn, execFileSync } = require('node:child_process')
const { idleLoop } = require('./lib/idle-loop')
const { bootstrap: brokerAddress, Topics } = require('./lib/broker')
const { median } = require('./lib/common')
const { nativeBin } = require('./lib/native-bin')

const rounds = Number(process.argv[2] || 5)
const bootstrap = brokerAddress()

/** Runs `cmd`; resolves with its last stdout line. `onStderr` sees stderr as it comes. */
function run(cmd, args, onStderr) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.stderr.on('data', (d) => {
      process.stderr.write(d)
      onStderr(String(d))
    })
    c.on('error', reject)
    c.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').pop()) : reject(new Error(`${cmd} exited ${code}`))))
  })
}

async function main() {
  const bin = nativeBin((m) => process.stderr.write(`${m}\n`))
  // Each round's topic is dropped after it and its files gone before the next (see Topics#drop in lib/broker.js).
  const topics = new Topics(bootstrap)
  // The quiet machine: the same loop over 1.5 s with nothing else running.
  const q = idleLoop()
  q.start()
  await new Promise((r) => setTimeout(r, 1500))
  q.end()
  const quiet = await q.result
  console.log(`quiet machine: idle loop p99 ${quiet.p99Ms.toFixed(2)} ms (max ${quiet.maxMs.toFixed(2)}, ${quiet.samples} samples)`)
  const p99s = []
  for (let i = 1; i <= rounds; i++) {
    const topic = await topics.create('loop-floor')
    execFileSync('sync')
    // Over the ceiling's timed window, which it marks on stderr.
    const idle = idleLoop()
    let native
    try {
      native = JSON.parse(await run(bin, ['produce', '--bootstrap', bootstrap, '--topic', topic, '--count', '3000000', '--warmup', '100000', '--size', '100', '--max-in-flight', '50000', '--pset', 'linger.ms=5'], idle.feed))
    } finally {
      idle.stop()
    }
    const loop = await idle.result
    await topics.drop(topic)
    p99s.push(loop.p99Ms)
    console.log(`round ${i}: native ceiling ${(native.msgsPerSec / 1e6).toFixed(2)} M msg/s over ${native.seconds.toFixed(2)} s; idle loop beside it p99 ${loop.p99Ms.toFixed(2)} ms (max ${loop.maxMs.toFixed(2)}, ${loop.samples} samples)`)
  }
  await topics.close()
  console.log(`median of ${rounds} rounds: idle loop p99 ${median(p99s).toFixed(2)} ms while the native ceiling produces`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
