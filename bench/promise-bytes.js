'use strict'
// Heap bytes kept per record while a send() is in flight, the part V8's
// young-generation GC copies on every scavenge until the record is
// acknowledged (bench/README.md, "What a promise per record costs"):
//
//   node --expose-gc bench/promise-bytes.js
//
// Three figures, each over 100,000 records: a bare promise; a promise and its
// resolve function kept to settle it later (the least a JS promise per record
// needs); krafka's send() pending on a producer that cannot deliver (no broker
// at 127.0.0.1:1). Not a contender; no Kafka needed.
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

/** Bytes per record that `fill(keep, ring)` leaves alive; the two arrays of N are made before counting. */
async function perRecord(fill) {
  const keep = new Array(N).fill(undefined)
  const ring = new Array(N).fill(undefined)
  const before = used()
  await fill(keep, ring)
  const bytes = (used() - before) / N
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
  // Its rings (powers of two) grown first for more than the warm-up and the
  // counted records together, so their growth is not counted as per-record.
  const warm = []
  for (let i = 0; i < 3 * N; i++) warm.push(producer.send({ topic: 'bench', value }).catch(() => {}))
  await new Promise((r) => setTimeout(r, 200))
  warm.length = 0
  const krafka = await perRecord(async (keep) => {
    for (let i = 0; i < N; i++) keep[i] = producer.send({ topic: 'bench', value })
    await new Promise((r) => setTimeout(r, 200)) // handed to the addon
  })
  console.log(`bytes kept per record in flight (${N.toLocaleString('en-US')} records):`)
  console.log(`  a promise alone                       ${bare.bytes.toFixed(0)}`)
  console.log(`  a promise and its resolve function    ${withResolve.bytes.toFixed(0)}`)
  console.log(`  krafka's send(), pending              ${krafka.bytes.toFixed(0)}`)
  process.exit(0) // the producer would wait message.timeout.ms for a broker that is not there
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
