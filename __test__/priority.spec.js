'use strict'
// librdkafka's threads run `krafka.thread.nice` steps (default 4) below the
// thread that creates the client, so the event loop gets the CPU first when
// both are ready (see krafka-core's priority.rs). Read back from the kernel.
const test = require('node:test')
const assert = require('node:assert/strict')
const { readdirSync, readFileSync } = require('node:fs')
const { Producer, Consumer, KafkaError } = require('..')
const { plaintext, gssapi, createTopic, consumeN, unique, testEnv } = require('./helpers')

// Linux only: elsewhere krafka leaves librdkafka's threads as they are (priority.rs).
const linux = process.platform === 'linux'

/** Every thread of this process: id → [name, nice], from /proc. */
function threads() {
  const out = new Map()
  for (const tid of readdirSync('/proc/self/task')) {
    let stat
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1')
    } catch {
      continue // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    out.set(tid, [name, Number(fields[16])]) // field 19 of proc(5): nice
  }
  return out
}

/** The librdkafka threads (named rdk:*) that were not there in `before`, as "name=nice". */
function newLibrdkafkaThreads(before) {
  return [...threads()].filter(([tid, [name]]) => !before.has(tid) && name.startsWith('rdk:')).map(([, [name, nice]]) => `${name}=${nice}`)
}

/** This (the event loop's) thread's nice. */
const ownNice = () => threads().get(String(process.pid))[1]

/** Asserts every new librdkafka thread, the broker's connection among them, runs at `nice`. */
function assertAll(found, nice) {
  assert.ok(found.some((t) => /^rdk:broker\d+=/.test(t)), `a broker connection thread among ${found}`)
  assert.ok(found.some((t) => t.startsWith('rdk:main=')), `librdkafka's main thread among ${found}`)
  for (const t of found) assert.equal(t.split('=')[1], String(nice), `${t} in ${found}`)
}

// Skipped off Linux on purpose: krafka sets thread priorities on Linux only (priority.rs).
test('a producer: librdkafka threads 4 steps below the event loop by default, none with 0, 9 with 9', { skip: !linux && 'Linux only' }, async () => {
  const topic = await createTopic(1, 'priority')
  for (const [extra, steps] of [[{}, 4], [{ 'krafka.thread.nice': 0 }, 0], [{ 'krafka.thread.nice': '9' }, 9]]) {
    const before = threads()
    const p = new Producer(plaintext(extra))
    try {
      const report = await p.send({ topic, value: 'x' })
      assert.equal(report.topic, topic)
      assertAll(newLibrdkafkaThreads(before), Math.min(19, ownNice() + steps))
    } finally {
      await p.close()
    }
  }
})

// Skipped off Linux on purpose: krafka sets thread priorities on Linux only (priority.rs).
test('a consumer in a group: its librdkafka threads yield too, and it still consumes', { skip: !linux && 'Linux only' }, async () => {
  const topic = await createTopic(1, 'priority')
  const p = new Producer(plaintext())
  await p.send({ topic, value: 'hello' })
  await p.close()
  const before = threads()
  const c = new Consumer(plaintext({ 'group.id': unique('priority'), 'auto.offset.reset': 'earliest' }))
  try {
    c.subscribe([topic])
    const got = await consumeN(c, 1)
    assert.equal(got[0].value.toString(), 'hello')
    assertAll(newLibrdkafkaThreads(before), Math.min(19, ownNice() + 4))
  } finally {
    await c.close()
  }
})

// Skipped off Linux on purpose: krafka sets thread priorities on Linux only (priority.rs).
test('with a Kerberos keytab login: both of krafka\'s thread hooks hold in one client', { skip: !linux && 'Linux only' }, async () => {
  // The keytab login and the priority share one plugin load (plugin.rs).
  process.env.KRB5_CONFIG = testEnv().krb5Conf // the test realm (krb5 reads it process-wide)
  const topic = await createTopic(1, 'priority')
  const before = threads()
  const p = new Producer(gssapi('client'))
  try {
    const report = await p.send({ topic, value: 'k' })
    assert.equal(report.topic, topic)
    assert.ok(report.offset >= 0)
    assertAll(newLibrdkafkaThreads(before), Math.min(19, ownNice() + 4))
  } finally {
    await p.close()
  }
})

test('a bad krafka.thread.nice is a KafkaError naming the key and the value', () => {
  for (const bad of [20, -1, 'low', 2.5]) {
    assert.throws(() => new Producer(plaintext({ 'krafka.thread.nice': bad })), (e) => {
      assert.ok(e instanceof KafkaError, String(e))
      assert.equal(e.code, 'ERR__INVALID_ARG')
      assert.match(e.message, /"krafka\.thread\.nice"/)
      assert.ok(e.message.includes(`"${bad}"`), e.message)
      return true
    })
  }
})
