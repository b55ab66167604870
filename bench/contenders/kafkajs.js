'use strict'
// kafkajs (pure JS). Its fastest documented paths: producer.send() with many
// messages per call (it has no linger: each call is one request), and
// consumer.run({ eachBatch }). acks=-1 (all); its other settings are its defaults.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel } = require('kafkajs')
const { Meter, timedPipeline, awaited, E2E, valueOf, withTimeout, pkgVersion } = require('../lib/common')

const kafka = (p) => new Kafka({ clientId: 'krafka-bench', brokers: [p.bootstrap], logLevel: logLevel.NOTHING })

async function warmProducer(p, value = valueOf(p.size)) {
  const producer = kafka(p).producer()
  await producer.connect()
  await producer.send({ topic: p.topic, acks: -1, messages: [{ value }] })
  return producer
}

async function produce(p) {
  const producer = await warmProducer(p)
  const value = valueOf(p.size)
  const meter = await timedPipeline(p, (first, n) => {
    const messages = new Array(n)
    for (let j = 0; j < n; j++) messages[j] = { value }
    return producer.send({ topic: p.topic, acks: -1, messages })
  })
  await withTimeout(30000, 'disconnect', () => producer.disconnect())
  const r = meter.result()
  return { count: p.count, warmup: p.warmup || 0, msgsPerSec: p.count / r.seconds, mbPerSec: (p.count * p.size) / r.seconds / 1e6, ...r }
}

async function awaitedSends(p) {
  const producer = await warmProducer(p)
  const value = valueOf(p.size)
  const r = await awaited(p, () => producer.send({ topic: p.topic, acks: -1, messages: [{ value }] }))
  await withTimeout(30000, 'disconnect', () => producer.disconnect())
  return r
}

async function consume(p) {
  const consumer = kafka(p).consumer({ groupId: p.group })
  await consumer.connect()
  await consumer.subscribe({ topics: [p.topic], fromBeginning: true })
  const meter = new Meter({ eld: true })
  let n = 0
  let bytes = 0
  let finish
  const done = new Promise((r) => (finish = r))
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      if (n >= p.count) return
      if (n === 0) meter.start()
      for (const m of batch.messages) {
        n++
        bytes += m.value.length + (m.key ? m.key.length : 0)
        if (n >= p.count) {
          await meter.stop()
          finish()
          return
        }
      }
    },
  })
  await withTimeout(p.timeoutMs || 600000, 'consume', () => done)
  await withTimeout(30000, 'disconnect', () => consumer.disconnect()).catch(() => {})
  const r = meter.result()
  return { count: n, bytes, msgsPerSec: n / r.seconds, ...r }
}

async function e2e(p) {
  const t = new E2E(p)
  const consumer = kafka(p).consumer({ groupId: p.group })
  await consumer.connect()
  await consumer.subscribe({ topics: [p.topic], fromBeginning: true })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) t.receive(m.value)
    },
  })
  const producer = await warmProducer(p, t.warmupValue())
  let failure = null
  await t.produce(
    (values) => {
      producer.send({ topic: p.topic, acks: -1, messages: values.map((value) => ({ value })) }).catch((e) => (failure = failure || e))
    },
    { batch: true }
  )
  const r = await t.result()
  if (failure) throw failure
  await withTimeout(30000, 'disconnect', () => Promise.all([producer.disconnect(), consumer.disconnect()])).catch(() => {})
  return r
}

module.exports = {
  version: () => pkgVersion('kafkajs'),
  scenarios: { produce, await: awaitedSends, consume, e2e },
}
