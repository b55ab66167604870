'use strict'
// The JavaScript share of a produced record, without librdkafka or a broker:
// krafka's lib/producer.js drives a stand-in addon that takes each packed chunk
// and acknowledges it one event-loop turn later as one delivery batch, as the
// real delivery thread does. What it prints is CPU that only a JS client pays
// (the native ceiling has none of it): checking and packing records, settling
// their reports, building the report objects, and their garbage collection.
// Not a contender: a profiling aid (see bench/README.md).
//
//   node bench/producer-js-cost.js [records] [sendBatch|sendRaw|send]   # default 3,000,000 sendBatch()
//   node --cpu-prof bench/producer-js-cost.js                            # where it goes, per function

const client = require('../lib/client')
const { pipeline } = require('./lib/common')
const { senders } = require('./contenders/krafka')

/** Acknowledges every record it is handed, a batch per chunk, one turn later. */
class StandInProducer {
  #deliver
  #chunks = []
  constructor(config, deliver) {
    this.#deliver = deliver
  }

  producePacked(data, topics, fields, nums, headerKeys, headerFields, from) {
    const n = nums.length / 2
    const ids = new Float64Array(n - from)
    for (let i = from; i < n; i++) ids[i - from] = nums[i * 2]
    if (this.#chunks.push(ids) === 1) setImmediate(() => this.#acknowledge())
    return { done: n, failures: [] }
  }

  #acknowledge() {
    for (const ids of this.#chunks.splice(0)) {
      const n = ids.length
      const offsets = new Float64Array(n)
      const timestamps = new Float64Array(n)
      const now = Date.now()
      for (let i = 0; i < n; i++) {
        offsets[i] = i
        timestamps[i] = now
      }
      this.#deliver({ kind: 'reports', ids, partitions: new Int32Array(n), offsets, timestamps, failures: [] })
    }
  }
}

async function main() {
  const total = Number(process.argv[2] || 3000000)
  const variant = process.argv[3] || 'sendBatch'
  const real = client.native.NativeProducer
  client.native.NativeProducer = StandInProducer
  const { Producer } = require('../lib/producer')
  const producer = new Producer({ 'bootstrap.servers': '127.0.0.1:1' })
  client.native.NativeProducer = real
  // The same records and chunks as the benchmark's run of that API.
  const sender = senders[variant]
  if (!sender) throw new Error(`unknown API ${variant}; known: ${Object.keys(senders).join(', ')}`)
  const sendChunk = sender(producer, 'bench', Buffer.alloc(100, 1))
  await pipeline({ total: 100000 }, sendChunk) // warm-up: let V8 optimise
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await pipeline({ total }, sendChunk)
  const cpu = process.cpuUsage(cpu0)
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  console.log(`${total.toLocaleString('en-US')} ${variant}() records: ${Math.round(total / seconds).toLocaleString('en-US')} records/s, CPU ${cpuSeconds.toFixed(2)} s, ${Math.round((cpuSeconds * 1e9) / total)} ns per record`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
