'use strict'
// The JS floor: no Kafka, no native code. A pure-JS loop that builds exactly
// the message objects krafka yields ({ topic, partition, offset, key, value,
// headers, timestamp }, key and value as Buffers of their own, headers an
// array) from bytes already in memory, in batches of 1000 as krafka's native
// poll hands them over, and reads each one the way every consume loop here
// does. Whatever a Node client that hands out message objects does, it cannot
// beat this; krafka's for-await consumption is judged against it.
//
// Variants (all build the same objects; only the Buffers differ):
//   copy       Buffer.from(slice): an independent copy, from Node's 8 KiB
//              pool (the cheapest copy pure JS can make).
//   copy-own   one ArrayBuffer per Buffer (Buffer.allocUnsafeSlow + copy):
//              what napi_create_buffer_copy per message produced.
//   view       views into the batch's bytes (no copy; they keep the whole
//              batch alive), as krafka and kafkajs hand out. The floor.
//   for-await  `view`, yielded one message at a time through an async
//              generator and read with `for await`, as krafka's iterator is.
const { Meter, rssMb } = require('../lib/common')
// The floor's main row is `view`: the Buffers krafka yields since its batches cross as one Buffer.

const BATCH = 1000

/** `count` messages' keys and values laid out back to back, as in a fetched record batch. */
function fetchedBytes(count, keySize, valueSize) {
  const rec = keySize + valueSize
  // Reuse 64 distinct batches' worth of bytes (64 × 1000 × 110 B = 7 MB, far
  // beyond the CPU caches), so 1 M messages do not need 110 MB up front.
  const n = Math.min(count, 64 * BATCH)
  const bytes = Buffer.allocUnsafe(n * rec)
  for (let i = 0; i < n; i++) {
    const o = i * rec
    bytes.write(String(i % 10 ** keySize).padStart(keySize, '0'), o, 'latin1')
    for (let j = 0; j < valueSize; j++) bytes[o + keySize + j] = 97 + ((i + j) % 26)
  }
  return { bytes, n, rec }
}

const makers = {
  copy: (src, a, b) => Buffer.from(src.subarray(a, b)),
  'copy-own': (src, a, b) => {
    const out = Buffer.allocUnsafeSlow(b - a)
    src.copy(out, 0, a, b)
    return out
  },
  // Views as krafka makes them (Buffer.from(arrayBuffer, offset, length)).
  view: (src, a, b) => Buffer.from(src.buffer, src.byteOffset + a, b - a),
}

/** Builds batch number `k` of message objects (krafka's shape). */
function buildBatch(k, count, data, topic, keySize, make, base) {
  const first = k * BATCH
  const len = Math.min(BATCH, count - first)
  const out = new Array(len)
  for (let j = 0; j < len; j++) {
    const i = first + j
    const o = (i % data.n) * data.rec
    out[j] = {
      topic,
      partition: i % 3,
      offset: Math.floor(i / 3),
      key: make(data.bytes, o, o + keySize),
      value: make(data.bytes, o + keySize, o + data.rec),
      headers: [],
      timestamp: base + i,
    }
  }
  return out
}

async function consume(p) {
  const variant = p.variant || 'view'
  const keySize = p.keySize ?? 10
  const data = fetchedBytes(p.count, keySize, p.size)
  const topic = p.topic || 'krafka-bench-consume'
  const base = Date.now()
  const make = makers[variant === 'for-await' ? 'view' : variant]
  if (!make) throw new Error(`unknown floor variant ${variant}`)
  const batches = Math.ceil(p.count / BATCH)
  const meter = new Meter({ eld: true })
  const rssStartMb = rssMb()
  let n = 0
  let bytes = 0
  meter.start()
  if (variant === 'for-await') {
    async function* messages() {
      for (let k = 0; k < batches; k++) {
        // One event-loop turn per batch, as krafka's native poll resolves once per batch.
        await new Promise(setImmediate)
        const batch = buildBatch(k, p.count, data, topic, keySize, make, base)
        for (const m of batch) yield m
      }
    }
    for await (const m of messages()) {
      n++
      bytes += m.value.length + (m.key ? m.key.length : 0)
    }
  } else {
    for (let k = 0; k < batches; k++) {
      const batch = buildBatch(k, p.count, data, topic, keySize, make, base)
      for (const m of batch) {
        n++
        bytes += m.value.length + (m.key ? m.key.length : 0)
      }
      // Let the event loop turn once per batch, as a real consumer does.
      await new Promise(setImmediate)
    }
  }
  await meter.stop()
  const r = meter.result()
  return { count: n, bytes, msgsPerSec: n / r.seconds, ...r, rssStartMb }
}

module.exports = { version: `node ${process.version}`, scenarios: { consume } }
