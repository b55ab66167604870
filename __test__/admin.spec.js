'use strict'
// Admin against the real broker (which has auto.create.topics.enable on).
const test = require('node:test')
const assert = require('node:assert')
const { plaintext, unique } = require('./helpers')
const { Admin, KafkaError } = require('..')

test('createTopics, partitionCounts and deleteTopics; asking about an unknown topic never creates it', async () => {
  const admin = new Admin(plaintext())
  const topic = unique('admin')
  await admin.createTopics([{ topic, numPartitions: 4, replicationFactor: 1 }])
  let counts = {}
  for (let i = 0; i < 50 && counts[topic] !== 4; i++) {
    counts = await admin.partitionCounts(topic).catch(() => ({}))
    if (counts[topic] !== 4) await new Promise((r) => setTimeout(r, 100))
  }
  assert.equal(counts[topic], 4)

  const unknown = unique('admin-unknown')
  const e = await admin.partitionCounts(unknown).then(
    () => null,
    (err) => err
  )
  assert.ok(e instanceof KafkaError, `expected a KafkaError, got ${e}`)
  assert.equal(e.code, 'ERR_UNKNOWN_TOPIC_OR_PART')
  assert.match(e.message, new RegExp(unknown))
  // Had the metadata request allowed auto-creation, the broker would have made it by now.
  await new Promise((r) => setTimeout(r, 1000))
  const all = await admin.partitionCounts()
  assert.ok(all[topic] === 4, 'the created topic is listed')
  assert.ok(!(unknown in all), `${unknown} was created by a metadata request`)

  await admin.deleteTopics([topic])
})
