'use strict'
// Bad config is rejected at construction with a KafkaError naming the key,
// never a crash; secrets never appear in errors.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Producer, Consumer, Admin, KafkaError } = require('..')
const { plaintext } = require('./helpers')

for (const [name, make] of [
  ['Producer', (c) => new Producer(c)],
  ['Consumer', (c) => new Consumer({ 'group.id': 'g', ...c })],
  ['Admin', (c) => new Admin(c)],
]) {
  test(`${name}: an unknown key throws KafkaError naming it`, () => {
    assert.throws(() => make(plaintext({ 'bootstrap.server': 'x' })), (e) => {
      assert.ok(e instanceof KafkaError, String(e))
      assert.equal(e.code, 'ERR__INVALID_ARG')
      assert.match(e.message, /"bootstrap\.server"/)
      return true
    })
  })

  test(`${name}: a bad value throws KafkaError naming the key`, () => {
    assert.throws(() => make(plaintext({ 'compression.type': 'brotli' })), (e) => {
      assert.ok(e instanceof KafkaError)
      assert.equal(e.code, 'ERR__INVALID_ARG')
      assert.match(e.message, /compression\.type|compression\.codec/)
      return true
    })
  })
}

test('a value of the wrong type names the key', () => {
  assert.throws(() => new Producer(plaintext({ 'linger.ms': { ms: 5 } })), (e) => {
    assert.ok(e instanceof KafkaError)
    assert.equal(e.code, 'ERR__INVALID_ARG')
    assert.match(e.message, /"linger\.ms"/)
    return true
  })
})

test('numbers and booleans are accepted as values', async () => {
  const p = new Producer(plaintext({ 'linger.ms': 5, 'enable.idempotence': true }))
  await p.close()
})

test('a non-object config is a TypeError', () => {
  assert.throws(() => new Producer('bootstrap.servers=x'), TypeError)
  assert.throws(() => new Producer(null), TypeError)
})

test('subscribe() without group.id throws a KafkaError naming group.id', async () => {
  const c = new Consumer(plaintext())
  assert.throws(() => c.subscribe(['t']), (e) => e instanceof KafkaError && e.code === 'ERR__INVALID_ARG' && /group\.id/.test(e.message))
  await c.close()
})

test('secret values never appear in errors', () => {
  const secret = 'hunter2-very-secret'
  assert.throws(
    () => new Producer(plaintext({ 'sasl.password': secret, 'sasl.username': 'u', 'security.protocol': 'nonsense' })),
    (e) => {
      assert.ok(e instanceof KafkaError)
      assert.ok(!e.message.includes(secret), e.message)
      assert.ok(!String(e.stack).includes(secret))
      return true
    }
  )
})

test('a missing keytab is a Kerberos error that names the step and the file', () => {
  assert.throws(
    () => new Producer(plaintext({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'GSSAPI', 'sasl.kerberos.keytab': '/nonexistent/x.keytab' })),
    (e) => {
      assert.ok(e instanceof KafkaError)
      assert.equal(e.code, 'ERR__KRB5_KEYTAB_UNREADABLE')
      assert.match(e.message, /keytab check/)
      assert.match(e.message, /\/nonexistent\/x\.keytab/)
      return true
    }
  )
})
