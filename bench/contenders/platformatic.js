'use strict'
// @platformatic/kafka (pure JS), the last release that runs on Node 20
// (1.35.0; 2.x needs Node >= 22.22). Its fastest documented paths:
// producer.send() with many messages per call (no linger: each call is one
// request per broker), and the consumer's MessagesStream read with 'data'
// events. acks=-1 (all); its other settings are its defaults. No serializers:
// keys and values stay Buffers.
const { Producer, Consumer } = require('@platformatic/kafka')
const { Meter, timedPipeline, awaited, E2E, valueOf, withTimeout, pkgVersion } = require('../lib/common')

const ALL = -1

async function warmProducer(p, value = valueOf(p.size)) {
  const producer = new Producer({ clientId: 'krafka-bench', bootstrapBrokers: [p.bootstrap], acks: ALL })
  await producer.send({ messages: [{ topic: p.topic, value }], acks: ALL })
  return producer
}

async function produce(p) {
  const producer = await warmProducer(p)
  const value = valueOf(p.size)
  const meter = await timedPipeline(p, (first, n) => {
    const messages = new Array(n)
    for (let j = 0; j < n; j++) messages[j] = { topic: p.topic, value }
    return producer.send({ messages, acks: ALL })
  })
  await withTimeout(30000, 'close', () => producer.close())
  const r = meter.result()
  return { count: p.count, warmup: p.warmup || 0, msgsPerSec: p.count / r.seconds, mbPerSec: (p.count * p.size) / r.seconds / 1e6, ...r }
}

async function awaitedSends(p) {
  const producer = await warmProducer(p)
  const value = valueOf(p.size)
  const r = await awaited(p, () => producer.send({ messages: [{ topic: p.topic, value }], acks: ALL }))
  await withTimeout(30000, 'close', () => producer.close())
  return r
}

async function stream(p) {
  const consumer = new Consumer({ groupId: p.group, clientId: 'krafka-bench', bootstrapBrokers: [p.bootstrap] })
  const s = await consumer.consume({ topics: [p.topic], mode: 'earliest', autocommit: true })
  return { consumer, s }
}

async function consume(p) {
  const { consumer, s } = await stream(p)
  const meter = new Meter({ eld: true })
  let n = 0
  let bytes = 0
  await withTimeout(p.timeoutMs || 600000, 'consume', () =>
    new Promise((resolve, reject) => {
      s.on('error', reject)
      s.on('data', (m) => {
        if (n >= p.count) return
        if (n === 0) meter.start()
        n++
        bytes += m.value.length + (m.key ? m.key.length : 0)
        if (n >= p.count) meter.stop().then(resolve)
      })
    })
  )
  await withTimeout(30000, 'close', () => consumer.close(true)).catch(() => {})
  const r = meter.result()
  return { count: n, bytes, msgsPerSec: n / r.seconds, ...r }
}

async function e2e(p) {
  const t = new E2E(p)
  const { consumer, s } = await stream(p)
  s.on('data', (m) => t.receive(m.value))
  const producer = await warmProducer(p, t.warmupValue())
  let failure = null
  await t.produce(
    (values) => {
      producer.send({ messages: values.map((value) => ({ topic: p.topic, value })), acks: ALL }).catch((e) => (failure = failure || e))
    },
    { batch: true }
  )
  const r = await t.result()
  if (failure) throw failure
  await withTimeout(30000, 'close', () => Promise.all([producer.close(), consumer.close(true)])).catch(() => {})
  return r
}

module.exports = {
  version: () => pkgVersion('@platformatic/kafka'),
  scenarios: { produce, await: awaitedSends, consume, e2e },
}
