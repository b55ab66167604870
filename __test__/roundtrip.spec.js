'use strict'
// First end-to-end path over PLAINTEXT: what comes back is what the real broker stored.
const test = require('node:test')
const { plaintext, createTopic } = require('./helpers')
const { roundtrip, assertRoundtrip } = require('./fixtures/roundtrip')

test('PLAINTEXT: produce then consume returns key, value, headers, topic, partition, offset', async () => {
  const topic = await createTopic(3)
  assertRoundtrip(await roundtrip(plaintext(), topic), topic)
})
