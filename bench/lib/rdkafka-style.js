'use strict'
// node-rdkafka and @confluentinc/kafka-javascript's "Standard API" (its
// node-rdkafka-compatible API, which its docs call the more performant one)
// share one shape; this module drives either. Both wrap librdkafka, so they
// get krafka's librdkafka producer settings (enable.idempotence=true,
// acks=all, partitioner=murmur2_random, linger.ms as the scenario says).
// Consumers keep each client's defaults apart from group.id,
// auto.offset.reset=earliest and the librdkafka consumer tuning run.js passes
// to every librdkafka-based client alike (fetch.queue.backoff.ms).
//
// Fastest documented paths used:
//   produce   produce() with delivery reports (dr_cb) counted per chunk;
//             reports are served by `poll` (see below);
//   consume   non-flowing consume(1000, cb) in a loop (one native crossing per batch);
//   e2e       flowing mode ('data' events): consume(1000) waits to fill its
//             batch (up to ~100 ms at 10,000 msg/s), which is not what a
//             latency-minded user would pick.
const { Meter, timedPipeline, E2E, valueOf, withTimeout, sleep } = require('./common')

/**
 * @param {object} Kafka        the module (node-rdkafka or the confluent package)
 * @param {object} opts
 * @param {(producer) => void} opts.poll  how delivery reports get served
 */
function rdkafkaStyle(Kafka, { poll }) {
  const base = (p) => ({ 'bootstrap.servers': p.bootstrap, 'broker.address.family': 'v4' })
  const producerConf = (p, linger) => ({
    ...base(p),
    dr_cb: true,
    'enable.idempotence': true,
    acks: 'all',
    partitioner: 'murmur2_random',
    'linger.ms': linger,
  })

  function connect(client) {
    return new Promise((resolve, reject) => client.connect({ timeout: 10000 }, (err) => (err ? reject(err) : resolve())))
  }

  /** A connected producer whose reports resolve per-opaque callbacks. */
  async function producer(p, linger, warmValue = valueOf(p.size)) {
    const pr = new Kafka.Producer(producerConf(p, linger))
    pr.on('delivery-report', (err, report) => {
      const o = report && report.opaque
      if (o && typeof o.ack === 'function') o.ack(err)
    })
    pr.on('event.error', () => {})
    await connect(pr)
    poll(pr)
    await sendOne(pr, p.topic, warmValue)
    return pr
  }

  /** produce(), retrying while librdkafka's queue is full. */
  async function produceRetry(pr, topic, value, opaque) {
    for (;;) {
      try {
        pr.produce(topic, null, value, null, null, opaque)
        return
      } catch (e) {
        if (e.code !== -184 && e.code !== 'ERR__QUEUE_FULL') throw e
        await sleep(1)
      }
    }
  }

  function sendOne(pr, topic, value) {
    return new Promise((resolve, reject) => {
      const opaque = { ack: (err) => (err ? reject(err) : resolve()) }
      produceRetry(pr, topic, value, opaque).catch(reject)
    })
  }

  function disconnect(client) {
    return withTimeout(30000, 'disconnect', () => new Promise((resolve) => client.disconnect(() => resolve()))).catch(() => {})
  }

  async function produce(p) {
    const pr = await producer(p, p.linger)
    const value = valueOf(p.size)
    const meter = await timedPipeline(p, (first, n) =>
      new Promise((resolve, reject) => {
        let left = n
        let fail = null
        const chunk = {
          ack: (err) => {
            if (err) fail = fail || err
            if (--left === 0) (fail ? reject(fail) : resolve())
          },
        }
        ;(async () => {
          for (let j = 0; j < n; j++) {
            try {
              // Synchronous unless the queue is full.
              pr.produce(p.topic, null, value, null, null, chunk)
            } catch (e) {
              if (e.code !== -184 && e.code !== 'ERR__QUEUE_FULL') throw e
              await produceRetry(pr, p.topic, value, chunk)
            }
          }
        })().catch(reject)
      })
    )
    await disconnect(pr)
    const r = meter.result()
    return { count: p.count, warmup: p.warmup || 0, msgsPerSec: p.count / r.seconds, mbPerSec: (p.count * p.size) / r.seconds / 1e6, ...r }
  }

  async function consumer(p) {
    const c = new Kafka.KafkaConsumer({ ...base(p), ...p.consumerConfig, 'group.id': p.group }, { 'auto.offset.reset': 'earliest' })
    c.on('event.error', () => {})
    await connect(c)
    c.subscribe([p.topic])
    return c
  }

  async function consume(p) {
    const c = await consumer(p)
    const meter = new Meter({ eld: true })
    let n = 0
    let bytes = 0
    await withTimeout(p.timeoutMs || 600000, 'consume', () =>
      new Promise((resolve, reject) => {
        const loop = () =>
          c.consume(1000, (err, messages) => {
            if (err) return reject(err)
            if (messages.length > 0 && n === 0) meter.start()
            for (const m of messages) {
              n++
              bytes += m.value.length + (m.key ? m.key.length : 0)
              if (n >= p.count) {
                meter.stop().then(resolve)
                return
              }
            }
            setImmediate(loop)
          })
        loop()
      })
    )
    await disconnect(c)
    const r = meter.result()
    return { count: n, bytes, msgsPerSec: n / r.seconds, ...r }
  }

  async function e2e(p) {
    const t = new E2E(p)
    const c = await consumer(p)
    c.on('data', (m) => t.receive(m.value))
    c.consume()
    const pr = await producer(p, 0, t.warmupValue())
    let failure = null
    const opaque = { ack: (err) => err && (failure = failure || err) }
    await t.produce((value) => {
      produceRetry(pr, p.topic, value, opaque).catch((e) => (failure = failure || e))
    })
    const r = await t.result()
    if (failure) throw failure
    await Promise.all([disconnect(pr), disconnect(c)])
    return r
  }

  return { produce, consume, e2e, producer, sendOne, disconnect }
}

module.exports = { rdkafkaStyle }
