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
//   node bench/producer-js-cost.js 1000000 sendRaw mock                  # the event-loop thread's whole share
//
// `mock` swaps the stand-in for the real addon and librdkafka, producing to
// librdkafka's in-process mock cluster, and prints the CPU of the event-loop
// thread alone (Linux: /proc/thread-self/schedstat): the JavaScript and the
// native enqueueing together, which is what the benchmark's event loop pays
// beside the native ceiling's producing thread, without the real broker's noise.

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

  /** The producer's number for produceOne, which the stand-in does not serve (produce() runs on `mock` only). */
  handle() {
    return 0
  }

  producePacked(data, topics, fields, nums, headerKeys, headerFields, from) {
    const n = nums.length / 2
    const ids = new Float64Array(n - from)
    for (let i = from; i < n; i++) ids[i - from] = nums[i * 2]
    if (this.#chunks.push(ids) === 1) setImmediate(() => this.#acknowledge())
    return { done: n, failures: [] }
  }

  produceRaw(data, topic, vs, vl, ks, kl, parts, firstId, from, to) {
    const ids = new Float64Array(to - from)
    for (let i = from; i < to; i++) ids[i - from] = firstId + i
    if (this.#chunks.push(ids) === 1) setImmediate(() => this.#acknowledge())
    return { done: to, failures: [] }
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
  if (process.argv[4] === 'mock') return onMock(total, variant)
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

/** Nanoseconds this thread has run (Linux). */
function threadCpuNs() {
  return Number(require('node:fs').readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
}

/** The benchmark's pipelined produce against the mock cluster; CPU of the event-loop thread. */
async function onMock(total, variant) {
  const { Producer, MockCluster } = require('..')
  const mock = new MockCluster(1)
  const producer = new Producer({ 'bootstrap.servers': mock.bootstrapServers, 'linger.ms': 5 })
  await producer.send({ topic: 'bench', value: 'warm' })
  const sendChunk = senders[variant](producer, 'bench', Buffer.alloc(100, 1))
  await pipeline({ total: 100000 }, sendChunk) // warm-up: let V8 optimise
  const t0 = threadCpuNs()
  const w0 = process.hrtime.bigint()
  await pipeline({ total }, sendChunk)
  const ns = threadCpuNs() - t0
  const seconds = Number(process.hrtime.bigint() - w0) / 1e9
  console.log(`${total.toLocaleString('en-US')} ${variant}() records to the mock cluster: ${Math.round(total / seconds).toLocaleString('en-US')} records/s, event-loop thread CPU ${(ns / 1e9).toFixed(2)} s, ${Math.round(ns / total)} ns per record`)
  await producer.close()
  mock.stop()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
