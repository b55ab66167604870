'use strict'
// One contender, one scenario, one run, in its own process (no shared heap):
//   node bench/child.js <contender> <scenario> '<params json>'
// Prints `BENCH_RESULT <json>` on success; bench/run.js collects it.
const path = require('node:path')

async function main() {
  const [name, scenario, json] = process.argv.slice(2)
  const contender = require(path.join(__dirname, 'contenders', `${name}.js`))
  const params = JSON.parse(json || '{}')
  const fn = contender.scenarios[scenario]
  if (!fn) throw new Error(`${name} has no scenario "${scenario}"`)
  const result = await fn(params)
  result.version = typeof contender.version === 'function' ? contender.version() : contender.version
  process.stdout.write('BENCH_RESULT ' + JSON.stringify(result) + '\n')
}

main().then(
  // Some clients keep sockets or timers after close; the numbers are out, so leave.
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e && e.stack) || e}\n`)
    process.exit(1)
  }
)
