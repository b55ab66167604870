'use strict'
// @confluentinc/kafka-javascript, built from source here (see bench/README.md).
// Pipelined produce, consume and e2e use its Standard API (node-rdkafka's
// shape, which its docs call the more performant one) with delivery reports
// served on librdkafka's background thread (setPollInBackground, "more
// efficient for high-throughput producers"). Awaited single sends use its
// KafkaJS-compatible API, as its docs advise for low latency: `await send()`
// with linger.ms=0.
const Kafka = require('@confluentinc/kafka-javascript')
const { awaited, valueOf, withTimeout, pkgVersion } = require('../lib/common')
const { rdkafkaStyle } = require('../lib/rdkafka-style')

const impl = rdkafkaStyle(Kafka, { poll: (producer) => producer.setPollInBackground(true) })

async function awaitedSends(p) {
  const { Kafka: KafkaJS } = Kafka.KafkaJS
  const producer = new KafkaJS().producer({
    'bootstrap.servers': p.bootstrap,
    'broker.address.family': 'v4',
    'enable.idempotence': true,
    acks: 'all',
    partitioner: 'murmur2_random',
    'linger.ms': 0,
    log_level: 0,
  })
  await producer.connect()
  const value = valueOf(p.size)
  await producer.send({ topic: p.topic, messages: [{ value }] })
  const r = await awaited(p, () => producer.send({ topic: p.topic, messages: [{ value }] }))
  await withTimeout(30000, 'disconnect', () => producer.disconnect()).catch(() => {})
  return r
}

module.exports = {
  version: () => `${pkgVersion('@confluentinc/kafka-javascript')} (librdkafka ${Kafka.librdkafkaVersion})`,
  scenarios: { produce: impl.produce, await: awaitedSends, consume: impl.consume, e2e: impl.e2e },
}
