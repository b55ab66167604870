'use strict'
// Heap bytes kept per record while a send() is in flight, the part V8's
// young-generation GC copies on every scavenge until the record is
// acknowledged (bench/README.md, "What a promise per record costs"):
//
//   node --expose-gc bench/promise-bytes.js [--json]
//
// A bare promise and a promise kept with its resolve function to settle it
// later (the least a promise made in JS needs), over 100,000 of each; then
// krafka's send() pending on a producer that cannot deliver (no broker at
// 127.0.0.1:1): its first 20,000 in flight, whose promises are made in JS, and
// 100,000 past them, whose promises the addon makes. Last, the time it takes
// to make and settle a promise either way. Not a contender; no Kafka needed.
const { Producer } = require('..')

const N = 100000
if (typeof gc !== 'function') throw new Error('run with node --expose-gc')

/** Heap in use after two full collections. */
function used() {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

let taken
function take(resolve) {
  taken = resolve
}

/** Bytes per record that `fill(keep, ring)` leaves alive; the two arrays of n are made before counting. */
async function perRecord(fill, n = N) {
  const keep = new Array(n).fill(undefined)
  const ring = new Array(n).fill(undefined)
  const before = used()
  await fill(keep, ring)
  const bytes = (used() - before) / n
  return { bytes, keep, ring }
}

async function main() {
  const bare = await perRecord((keep) => {
    for (let i = 0; i < N; i++) keep[i] = new Promise(take)
  })
  const withResolve = await perRecord((keep, ring) => {
    for (let i = 0; i < N; i++) {
      keep[i] = new Promise(take)
      ring[i] = taken
    }
  })
  const producer = new Producer({ 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 600000, 'queue.buffering.max.messages': 1000000 })
  const value = Buffer.alloc(100)
  // Its rings (powers of two) grown first, by produce() calls (no promise),
  // past everything counted below, so their growth is not counted per record.
  for (let i = 0; i < 3 * N; i++) producer.produce('bench', value)
  // The first 20,000 send()s in flight get promises made in JS (lib/producer.js, JS_PROMISES) ...
  const jsMade = await perRecord(async (keep) => {
    for (let i = 0; i < 20000; i++) keep[i] = producer.send({ topic: 'bench', value })
    await new Promise((r) => setTimeout(r, 200)) // handed to the addon
  }, 20000)
  // ... the ones past them promises the addon made (lib/promises.js).
  const addonMade = await perRecord(async (keep) => {
    for (let i = 0; i < N; i++) keep[i] = producer.send({ topic: 'bench', value })
    await new Promise((r) => setTimeout(r, 200))
  })
  const ns = costs()
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ bare: bare.bytes, withResolve: withResolve.bytes, krafkaFirst20000: jsMade.bytes, krafkaPast20000: addonMade.bytes }))
    process.exit(0)
  }
  console.log('heap bytes kept per record in flight:')
  console.log(`  a promise alone                       ${bare.bytes.toFixed(0)}`)
  console.log(`  a promise and its resolve function    ${withResolve.bytes.toFixed(0)}`)
  console.log(`  krafka's send(), the first 20,000     ${jsMade.bytes.toFixed(0)}   (promises made in JS)`)
  console.log(`  krafka's send(), past 20,000          ${addonMade.bytes.toFixed(0)}   (promises the addon made)`)
  console.log('ns per promise made and settled (1,024 at a time, as krafka does):')
  console.log(`  made in JS, settled by its resolve    ${ns.js.toFixed(0)}`)
  console.log(`  made and settled by the addon         ${ns.addon.toFixed(0)}`)
  process.exit(0) // the producer would wait message.timeout.ms for a broker that is not there
}

/** CPU time per promise made and settled, both ways (lib/promises.js's calls for the addon's). */
function costs() {
  const { native } = require('../lib/client')
  const n = 1024
  const rounds = 500
  const promises = new Array(n).fill(undefined)
  const numbers = new Uint32Array(n)
  const resolves = new Array(n).fill(undefined)
  const values = Array.from({ length: n }, (_, i) => ({ i }))
  const resolveAll = new Uint8Array(n) // 0: resolve each
  const time = (f) => {
    for (let r = 0; r < 50; r++) f() // warm-up
    const t = process.hrtime.bigint()
    for (let r = 0; r < rounds; r++) f()
    return Number(process.hrtime.bigint() - t) / (rounds * n)
  }
  const js = time(() => {
    for (let i = 0; i < n; i++) {
      promises[i] = new Promise(take)
      resolves[i] = taken
    }
    for (let i = 0; i < n; i++) resolves[i](values[i])
  })
  const addon = time(() => {
    native.makePromises(promises, numbers)
    native.settlePromises(numbers, values, n, resolveAll)
  })
  return { js, addon }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
