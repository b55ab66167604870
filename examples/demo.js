'use strict'
// The demo behind `npm run demo`: producer -> consumer round trip.
// Without KAFKA_BOOTSTRAP it runs on librdkafka's in-process mock cluster, so
// it needs no broker at all; with KAFKA_BOOTSTRAP=host:port it uses that broker.
const { Producer, Consumer, MockCluster, features, librdkafkaVersion } = require('..')

async function main() {
  const mock = process.env.KAFKA_BOOTSTRAP ? null : new MockCluster(1)
  const bootstrap = process.env.KAFKA_BOOTSTRAP || mock.bootstrapServers
  console.log(`krafka on librdkafka ${librdkafkaVersion} (${features.join(', ')})`)
  console.log(mock ? `embedded mock cluster at ${bootstrap} (set KAFKA_BOOTSTRAP to use a real broker)` : `broker ${bootstrap}`)

  const topic = `krafka-demo-${Date.now()}`
  const producer = new Producer({ 'bootstrap.servers': bootstrap })
  const reports = await producer.sendBatch(
    ['alpha', 'beta', 'gamma'].map((word, i) => ({
      topic,
      key: `order-${i}`,
      value: JSON.stringify({ word, n: i }),
      headers: { source: 'demo' },
    }))
  )
  for (const r of reports) console.log(`produced  -> ${r.topic}[${r.partition}] @ ${r.offset}`)
  await producer.close()

  const consumer = new Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': `${topic}-group`,
    'auto.offset.reset': 'earliest',
    'fetch.queue.backoff.ms': 10,
  })
  consumer.subscribe([topic])
  let seen = 0
  for await (const msg of consumer) {
    console.log(`consumed <- ${msg.topic}[${msg.partition}] @ ${msg.offset} key=${msg.key} value=${msg.value} headers=${msg.headers.map((h) => `${h.key}=${h.value}`)}`)
    if (++seen === reports.length) break // break leaves the group cleanly
  }
  mock?.stop()
  console.log(`done: ${seen} of ${reports.length} messages round-tripped`)
  if (seen !== reports.length) process.exitCode = 1
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
