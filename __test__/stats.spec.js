'use strict'
// librdkafka's statistics as 'stats' events, and what they show about the
// librdkafka that krafka links: its broker thread does not spin while an
// idempotent producer waits for in-flight requests (vendor/README.md).
const test = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const { Producer, Consumer } = require('..')
const { plaintext, createTopic, unique } = require('./helpers')

/**
 * The next 'stats' event (that satisfies `ok`), or a failure after `ms`. The
 * timer is a plain (ref'd) one: an idle client does not keep Node alive by itself.
 */
async function nextStats(client, ms = 10000, ok = () => true) {
  let last = null
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(new Error(`no fitting 'stats' event within ${ms} ms; last: ${JSON.stringify(last)?.slice(0, 2000)}`)), ms)
  try {
    for (;;) {
      const [stats] = await once(client, 'stats', { signal: ac.signal })
      last = stats
      if (ok(stats)) return stats
    }
  } finally {
    clearTimeout(timer)
  }
}

/** The stats of the one real broker (librdkafka also lists its bootstrap and internal pseudo-brokers). */
function broker(stats) {
  const real = Object.values(stats.brokers).filter((b) => b.nodeid >= 0)
  assert.equal(real.length, 1, `one broker in ${Object.keys(stats.brokers)}`)
  return real[0]
}

test("'stats' events carry librdkafka's statistics, parsed, every statistics.interval.ms", async () => {
  const topic = await createTopic(1, 'stats')
  const p = new Producer(plaintext({ 'statistics.interval.ms': 100 }))
  try {
    const report = await p.send({ topic, value: 'x' })
    assert.equal(report.topic, topic)
    const stats = await nextStats(p)
    assert.equal(stats.type, 'producer')
    assert.equal(typeof stats.ts, 'number')
    assert.ok(broker(stats).req.Produce >= 1, `Produce requests: ${JSON.stringify(broker(stats).req)}`)
    assert.ok(stats.topics[topic], `topic ${topic} in ${Object.keys(stats.topics)}`)
    assert.ok(stats.txmsgs >= 1, `txmsgs ${stats.txmsgs}`)
  } finally {
    await p.close()
  }
})

test("statistics text that is not JSON becomes an 'error' event, never a string 'stats' event", () => {
  const { EventEmitter } = require('node:events')
  const { emitStats } = require('../lib/client')
  const e = new EventEmitter()
  const stats = []
  const errors = []
  e.on('stats', (s) => stats.push(s))
  e.on('error', (err) => errors.push(err))
  emitStats(e, '{"type":"producer","ts":1}')
  emitStats(e, '{"type": truncated')
  assert.deepEqual(stats, [{ type: 'producer', ts: 1 }])
  assert.equal(errors.length, 1)
  assert.equal(errors[0].code, 'ERR__BAD_MSG')
  assert.match(errors[0].message, /statistics are not JSON/)
  // Without a 'stats' listener nothing is parsed, so nothing fails.
  const quiet = new EventEmitter()
  quiet.on('error', (err) => errors.push(err))
  emitStats(quiet, 'not json')
  assert.equal(errors.length, 1)
})

test('without statistics.interval.ms, no stats events', async () => {
  const topic = await createTopic(1, 'stats')
  const p = new Producer(plaintext())
  let events = 0
  p.on('stats', () => events++)
  try {
    await p.send({ topic, value: 'x' })
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(events, 0)
  } finally {
    await p.close()
  }
})

// The vendored librdkafka's patch: with 5 requests in flight for a partition
// and its oldest record past linger.ms, 2.12.1's broker thread looped without
// sleeping until a response came (35,000-275,000 wakeups per 1 M records here,
// against about 450 patched). Saturate an idempotent producer and count them.
test('an idempotent producer at full speed: the broker thread sleeps while its requests are in flight', async () => {
  const topic = await createTopic(3, 'stats-spin')
  const p = new Producer(plaintext({ 'statistics.interval.ms': 100, 'linger.ms': 5 }))
  try {
    await p.send({ topic, value: 'warm-up' })
    const before = broker(await nextStats(p))
    const value = Buffer.alloc(100, 1)
    const total = 300000
    const inFlight = []
    let acked = 0
    for (let first = 0; first < total; first += 1000) {
      const recs = new Array(1000).fill({ topic, value })
      inFlight.push(p.sendBatch(recs).then((r) => (acked += r.length)))
      if (inFlight.length >= 50) await inFlight.shift()
      else await new Promise(setImmediate)
    }
    await Promise.all(inFlight)
    assert.equal(acked, total)
    const after = broker(await nextStats(p))
    const wakeups = after.wakeups - before.wakeups
    const requests = after.req.Produce - before.req.Produce
    assert.ok(requests >= 10, `${requests} Produce requests`)
    // Patched: a few wakeups per request (I/O, stats, timers). Spinning: hundreds.
    assert.ok(wakeups <= 20 * requests + 500, `${wakeups} broker-thread wakeups for ${requests} Produce requests`)
  } finally {
    await p.close()
  }
})

test("a consumer's 'stats' events show what it fetched, by partition, and its group", async () => {
  const topic = await createTopic(2, 'stats-consumer')
  const p = new Producer(plaintext())
  const values = Array.from({ length: 20 }, (_, i) => `v${i}`)
  const sent = await p.sendBatch(values.map((value, i) => ({ topic, value, partition: i % 2 })))
  await p.close()
  assert.equal(sent.length, 20)

  const c = new Consumer(plaintext({ 'group.id': unique('stats-group'), 'auto.offset.reset': 'earliest', 'statistics.interval.ms': 100 }))
  c.subscribe([topic])
  const got = []
  // Stats are served by the consumer's polls: iterate while waiting for them.
  const reading = (async () => {
    for await (const m of c) got.push(m.value.toString())
  })()
  try {
    const stats = await nextStats(c, 20000, (s) => s.rxmsgs >= 20)
    assert.equal(stats.type, 'consumer')
    assert.equal(stats.cgrp.state, 'up')
    const parts = stats.topics[topic].partitions
    for (const part of ['0', '1']) {
      // Each partition's fetch position is past its 10 records (positions are next offsets).
      assert.equal(parts[part].fetch_state, 'active')
      assert.ok(parts[part].next_offset >= 10, `partition ${part}: next_offset ${parts[part].next_offset}`)
      assert.ok(parts[part].rxmsgs >= 10, `partition ${part}: rxmsgs ${parts[part].rxmsgs}`)
    }
    assert.ok(broker(stats).req.Fetch >= 1, `Fetch requests: ${JSON.stringify(broker(stats).req)}`)
  } finally {
    await c.close()
    await reading
  }
  assert.deepEqual(got.sort(), [...values].sort())
})
