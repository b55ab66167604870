'use strict'
// krafka, loaded from the repo root: the library under test.
const path = require('node:path')
const v8 = require('node:v8')
const { Producer, Consumer, librdkafkaVersion } = require(path.join(__dirname, '..', '..'))
const { Meter, timedPipeline, awaited, E2E, valueOf, rssMb, withTimeout, sleep } = require('../lib/common')

/**
 * RSS at a checkpoint, with the V8 young generation's capacity beside it: V8
 * doubles that space (up to its default maximum) as survivors of scavenges
 * add up, and the reader can see how much of RSS growth that is.
 */
function memoryAt(messages) {
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
  return { messages, rssMb: rssMb(), heapUsedMb: process.memoryUsage().heapUsed / 1e6, youngGenMb: young ? young.space_size / 1048576 : null }
}

const base = (p) => ({ 'bootstrap.servers': p.bootstrap, 'broker.address.family': 'v4' })

async function warmProducer(p, extra, value = valueOf(p.size)) {
  const producer = new Producer({ ...base(p), ...extra })
  // Connection, metadata and the idempotent producer id, before any timing.
  await producer.send({ topic: p.topic, value })
  return producer
}

const senders = {
  /** The headline API: one promise per record, not awaited one by one. */
  send: (producer, topic, value) => (first, n) => {
    const ps = new Array(n)
    for (let j = 0; j < n; j++) ps[j] = producer.send({ topic, value })
    return Promise.all(ps)
  },
  /** One native crossing per chunk. */
  sendBatch: (producer, topic, value) => (first, n) => {
    const recs = new Array(n)
    for (let j = 0; j < n; j++) recs[j] = { topic, value }
    return producer.sendBatch(recs)
  },
  /**
   * Columnar: Int32Array columns over one buffer. Every record's value is the
   * same 100 bytes, as in every other run (the other clients and sendBatch()
   * hand the same Buffer for each record, the native ceiling the same
   * pointer), so the columns are made once and the buffer is the value itself.
   */
  sendRaw: (producer, topic, value) => {
    const valueStarts = new Int32Array(1000)
    const valueLengths = new Int32Array(1000).fill(value.length)
    return (first, n) => {
      const cols = n === 1000 ? { valueStarts, valueLengths } : { valueStarts: valueStarts.subarray(0, n), valueLengths: valueLengths.subarray(0, n) }
      return producer.sendRaw({ topic, data: value, ...cols })
    }
  },
  /** Fire-and-forget with onDelivery, as confluent-kafka-python's produce(). */
  produce: (producer, topic, value) => async (first, n) => {
    let left = n
    let fail = null
    let done
    const all = new Promise((resolve, reject) => (done = { resolve, reject }))
    const onDelivery = (err) => {
      if (err) fail = fail || err
      if (--left === 0) (fail ? done.reject(fail) : done.resolve())
    }
    for (let j = 0; j < n; j++) {
      for (;;) {
        try {
          producer.produce(topic, value, null, { onDelivery })
          break
        } catch (e) {
          if (e.code !== 'ERR__QUEUE_FULL') throw e
          await sleep(1)
        }
      }
    }
    return all
  },
}

async function produce(p) {
  const variant = (p.variant || 'send').replace(/@.*/, '') // send@20000: send() at another in-flight cap (run.js)
  return produceWith(p, senders[variant])
}

/** Scenario 1 through one of `senders` (or the promise-per-record reference's, contenders/promise.js) on a warmed-up krafka producer. */
async function produceWith(p, sender) {
  const producer = await warmProducer(p, { 'linger.ms': p.linger })
  const meter = await timedPipeline(p, sender(producer, p.topic, valueOf(p.size)))
  await withTimeout(30000, 'close', () => producer.close())
  const r = meter.result()
  return { count: p.count, warmup: p.warmup || 0, msgsPerSec: p.count / r.seconds, mbPerSec: (p.count * p.size) / r.seconds / 1e6, ...r }
}

async function awaitedSends(p) {
  const producer = await warmProducer(p, { 'linger.ms': 0 })
  const value = valueOf(p.size)
  const r = await awaited(p, () => producer.send({ topic: p.topic, value }))
  await withTimeout(30000, 'close', () => producer.close())
  return r
}

function consumer(p) {
  const c = new Consumer({ ...base(p), ...p.consumerConfig, 'group.id': p.group, 'auto.offset.reset': 'earliest' })
  c.subscribe([p.topic])
  return c
}

async function consume(p) {
  // 'for-await@defaults': the same loop; run.js passes no consumer tuning for it.
  const variant = (p.variant || 'for-await').replace(/@.*/, '')
  const c = consumer(p)
  const meter = new Meter({ eld: true })
  const rssStartMb = rssMb()
  const checkpoints = new Set(p.rssAt || [])
  const rss = []
  let n = 0
  let bytes = 0
  await withTimeout(p.timeoutMs || 600000, 'consume', async () => {
    if (variant === 'for-await') {
      for await (const m of c) {
        if (n === 0) meter.start()
        n++
        bytes += m.value.length + (m.key ? m.key.length : 0)
        if (checkpoints.has(n)) rss.push(memoryAt(n))
        if (n >= p.count) {
          await meter.stop()
          break
        }
      }
    } else if (variant === 'batches') {
      outer: for await (const batch of c.batches()) {
        if (n === 0) meter.start()
        for (const m of batch) {
          n++
          bytes += m.value.length + (m.key ? m.key.length : 0)
          if (n >= p.count) {
            await meter.stop()
            break outer
          }
        }
      }
    } else if (variant === 'raw') {
      // Reads each length from the columns: no object or Buffer per message.
      outer: for await (const raw of c.rawBatches()) {
        if (n === 0) meter.start()
        for (let i = 0; i < raw.length; i++) {
          n++
          bytes += raw.valueLength(i) + Math.max(raw.keyLength(i), 0)
          if (n >= p.count) {
            await meter.stop()
            break outer
          }
        }
      }
    } else {
      throw new Error(`unknown consume variant ${variant}`)
    }
  })
  await withTimeout(30000, 'close', () => c.close())
  const r = meter.result()
  return { count: n, bytes, msgsPerSec: n / r.seconds, ...r, rssStartMb, rss }
}

async function e2e(p) {
  const t = new E2E(p)
  const c = consumer(p)
  const producer = await warmProducer(p, { 'linger.ms': 0 }, t.warmupValue())
  let failure = null
  const loop = (async () => {
    for await (const m of c) {
      t.receive(m.value)
      if (t.received >= t.total) break
    }
  })()
  await t.produce((value) => {
    producer.send({ topic: p.topic, value }).catch((e) => (failure = failure || e))
  })
  const r = await t.result()
  if (failure) throw failure
  await c.close()
  await loop.catch(() => {})
  await withTimeout(30000, 'close', () => producer.close())
  return r
}

module.exports = {
  version: () => `${require('../../package.json').version} (librdkafka ${librdkafkaVersion})`,
  scenarios: { produce, await: awaitedSends, consume, e2e },
  senders, // for bench/producer-js-cost.js
  produceWith, // for contenders/promise.js
}
