'use strict'
// An event loop with nothing to do, in a Node process of its own: the least
// event-loop delay any Node client can have on this machine while Kafka
// traffic runs beside it. Used by run.js (beside every native-ceiling produce
// run) and loop-floor.js.

const { spawn } = require('node:child_process')

const START = 'krafka-bench: window start'
const END = 'krafka-bench: window end'

/** The child: monitorEventLoopDelay (1 ms resolution, as krafka's loop is measured) between "start" and "end" on stdin. */
const SCRIPT = `
  const { monitorEventLoopDelay } = require('node:perf_hooks')
  const h = monitorEventLoopDelay({ resolution: 1 })
  let text = ''
  process.stdin.on('data', (d) => {
    text += d
    if (text.includes('start\\n')) { text = text.replace('start\\n', ''); h.enable() }
    if (text.includes('end\\n')) {
      h.disable()
      console.log(JSON.stringify(h.count > 0 ? { p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, samples: h.count } : null))
      process.exit(0)
    }
  })
  process.stdin.on('end', () => { console.log('null'); process.exit(0) })`

/**
 * Starts the idle loop. `feed(text)` takes the native binary's stderr as it
 * comes and starts and ends the measurement at its window marks (or call
 * `start()`/`end()` directly); `stop()` ends it without a figure if the window
 * never closed; `result` resolves with { p99Ms, maxMs, samples } or null.
 */
function idleLoop() {
  const child = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const result = new Promise((resolve) => {
    child.on('error', () => resolve(null))
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim() || 'null'))
      } catch {
        resolve(null)
      }
    })
  })
  child.stdin.on('error', () => {})
  const start = () => child.stdin.write('start\n')
  const end = () => child.stdin.write('end\n')
  let seen = ''
  return {
    start,
    end,
    feed: (chunk) => {
      seen += chunk
      if (seen.includes(START)) {
        start()
        seen = seen.slice(seen.indexOf(START) + START.length)
      }
      if (seen.includes(END)) {
        end()
        seen = ''
      }
    },
    stop: () => child.stdin.end(),
    result,
  }
}

module.exports = { idleLoop }
