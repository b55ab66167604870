'use strict'
// node-rdkafka (librdkafka binding, NAN), built from source here: see
// bench/README.md. Delivery reports come from poll(), which node-rdkafka runs
// on a JS interval: 1 ms here (its README shows 100 ms), the most favourable
// setting for both throughput and awaited latency.
const Kafka = require('node-rdkafka')
const { awaited, valueOf, pkgVersion } = require('../lib/common')
const { rdkafkaStyle } = require('../lib/rdkafka-style')

const impl = rdkafkaStyle(Kafka, { poll: (producer) => producer.setPollInterval(1) })

async function awaitedSends(p) {
  const pr = await impl.producer(p, 0)
  const value = valueOf(p.size)
  const r = await awaited(p, () => impl.sendOne(pr, p.topic, value))
  await impl.disconnect(pr)
  return r
}

module.exports = {
  version: () => `${pkgVersion('node-rdkafka')} (librdkafka ${Kafka.librdkafkaVersion})`,
  scenarios: { produce: impl.produce, await: awaitedSends, consume: impl.consume, e2e: impl.e2e },
}
