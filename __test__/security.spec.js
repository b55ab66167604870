'use strict'
// Per-client Kerberos identity proven by the broker's authorizer, and every
// security mode of the test broker with a produce/consume round trip.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const { Producer, Consumer, KafkaError } = require('..')
const { root, gssapi, plaintext, createTopic, testEnv, unique } = require('./helpers')
const { roundtrip, assertRoundtrip } = require('./fixtures/roundtrip')

const env = testEnv()
process.env.KRB5_CONFIG = env.krb5Conf

/** kafka-acls.sh against the test broker (as the super user ANONYMOUS). */
function acls(...args) {
  execFileSync('bash', [join(root, 'scripts', 'kafka-tool.sh'), 'acls', '--bootstrap-server', env.bootstrap.plaintext, ...args], { stdio: 'ignore' })
}

function allowOnly(principal, topic) {
  acls('--add', '--allow-principal', `User:${principal}`, '--operation', 'Write', '--operation', 'Describe', '--operation', 'Read', '--topic', topic)
}

test('two clients in one process with different principals each authenticate as themselves (broker ACLs)', async () => {
  const [topicA, topicB] = [await createTopic(1, 'acl-alice'), await createTopic(1, 'acl-bob')]
  allowOnly('alice', topicA)
  allowOnly('bob', topicB)
  const alice = new Producer(gssapi('alice', { 'message.timeout.ms': 10000 }))
  const bob = new Producer(gssapi('bob', { 'message.timeout.ms': 10000 }))
  const [a, b] = await Promise.all([alice.send({ topic: topicA, value: 'from alice' }), bob.send({ topic: topicB, value: 'from bob' })])
  assert.equal(a.topic, topicA)
  assert.equal(b.topic, topicB)
  const denied = (e) => e instanceof KafkaError && e.code === 'ERR_TOPIC_AUTHORIZATION_FAILED'
  await Promise.all([
    assert.rejects(alice.send({ topic: topicB, value: 'alice must not write here' }), denied),
    assert.rejects(bob.send({ topic: topicA, value: 'bob must not write here' }), denied),
  ])
  await Promise.all([alice.close(), bob.close()])
})

test('a consumer without group.id needs no group ACL, as Java\'s standalone consumer: a principal refused every group reads its assigned partition, with no error event', async (t) => {
  const topic = await createTopic(1, 'standalone-acl')
  // bob is refused the groups this process's standalone consumers are given
  // (krafka-standalone-<pid>-...). Not a wildcard: with allow.everyone.if.no.acl.found,
  // an ACL on every group would lock every other principal out of theirs.
  const acl = ['--deny-principal', 'User:bob', '--operation', 'All', '--resource-pattern-type', 'prefixed', '--group', `krafka-standalone-${process.pid}-`]
  acls('--add', ...acl)
  t.after(() => acls('--remove', '--force', ...acl))
  const p = new Producer(plaintext())
  await p.sendBatch(['a', 'b', 'c'].map((value) => ({ topic, value })))
  await p.close()
  const c = new Consumer(gssapi('bob', { 'auto.offset.reset': 'earliest' }))
  const errors = []
  const logs = []
  c.on('error', (e) => errors.push(e))
  c.on('log', (l) => logs.push(l))
  // librdkafka still looks up krafka's stand-in group, and the broker refuses it.
  const refused = (l) => l.facility === 'STANDALONE' && /authorization failed/i.test(l.message)
  c.assign([{ topic, partition: 0 }])
  const got = []
  const deadline = Date.now() + 30000
  while ((got.length < 3 || !logs.some(refused)) && Date.now() < deadline) {
    for (const m of await c.consume(10, 200)) got.push(m.value.toString())
  }
  for (let i = 0; i < 3; i++) await c.consume(10, 200) // and a little longer: nothing else surfaces
  await c.close()
  assert.deepEqual(got, ['a', 'b', 'c'])
  assert.deepEqual(errors, [], 'the refused lookup of a group the app never named is no error of the app\'s')
  assert.ok(logs.some(refused), 'it is a log line instead')
  // With auto.offset.reset=error librdkafka also fetches committed offsets
  // under that name: there the refusal stays an error, as it must.
  const strict = new Consumer(gssapi('bob', { 'auto.offset.reset': 'error' }))
  strict.assign([{ topic, partition: 0 }])
  await assert.rejects(
    (async () => {
      for (const end = Date.now() + 30000; Date.now() < end; ) await strict.consume(10, 200)
    })(),
    (e) => e instanceof KafkaError && e.code === 'ERR_GROUP_AUTHORIZATION_FAILED'
  )
  await strict.close()
  const denials = readFileSync(env.logs.authorizer, 'utf8').split('\n').filter((l) => l.includes('User:bob is Denied') && l.includes(`krafka-standalone-${process.pid}-`) && l.includes('FindCoordinator'))
  assert.ok(denials.length > 0, 'the broker did refuse bob the lookup of this process\'s stand-in group')
})

test('SASL_SSL with GSSAPI (TLS and Kerberos together), TLS verification on', async () => {
  const topic = await createTopic(1, 'sasl-ssl')
  const cfg = gssapi('client', { 'bootstrap.servers': env.bootstrap.sasl_ssl, 'security.protocol': 'SASL_SSL', 'ssl.ca.location': env.tls.caPem })
  assertRoundtrip(await roundtrip(cfg, topic), topic)
})

for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
  test(`SASL_PLAINTEXT with ${mech}`, async () => {
    const topic = await createTopic(1, 'scram')
    const cfg = {
      'bootstrap.servers': env.bootstrap.scram,
      'broker.address.family': 'v4',
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanisms': mech,
      'sasl.username': env.scram.username,
      'sasl.password': env.scram.password,
    }
    assertRoundtrip(await roundtrip(cfg, topic), topic)
  })
}

test('mTLS: client certificate with a passphrase-protected key, TLS verification on', async () => {
  const topic = await createTopic(1, 'mtls')
  const cfg = {
    'bootstrap.servers': env.bootstrap.mtls,
    'broker.address.family': 'v4',
    'security.protocol': 'SSL',
    'ssl.ca.location': env.tls.caPem,
    'ssl.certificate.location': env.tls.clientCertPem,
    'ssl.key.location': env.tls.clientKeyEncryptedPem,
    'ssl.key.password': env.tls.keyPassword,
  }
  assertRoundtrip(await roundtrip(cfg, topic), topic)
})

test('mTLS: a broker certificate from an unknown CA is rejected (verification is on by default)', async () => {
  const p = new Producer({
    'bootstrap.servers': env.bootstrap.mtls,
    'broker.address.family': 'v4',
    'security.protocol': 'SSL',
    'ssl.certificate.location': env.tls.clientCertPem,
    'ssl.key.location': env.tls.clientKeyPem,
    'message.timeout.ms': 5000,
  })
  const err = new Promise((resolve) => p.once('error', resolve))
  p.send({ topic: unique('never'), value: 'x' }).catch(() => {})
  const e = await err
  assert.ok(e instanceof KafkaError)
  assert.match(e.message, /certificate verify failed|SSL handshake failed/i)
  await p.close(1000)
})

for (const [name, key, proto] of [['SASL_PLAINTEXT', 'plain', 'SASL_PLAINTEXT'], ['SASL_SSL', 'plain_ssl', 'SASL_SSL']]) {
  test(`${name} with PLAIN`, async () => {
    const topic = await createTopic(1, 'plain')
    const cfg = {
      'bootstrap.servers': env.bootstrap[key],
      'broker.address.family': 'v4',
      'security.protocol': proto,
      'sasl.mechanisms': 'PLAIN',
      'sasl.username': env.plain.username,
      'sasl.password': env.plain.password,
      ...(proto === 'SASL_SSL' ? { 'ssl.ca.location': env.tls.caPem } : {}),
    }
    assertRoundtrip(await roundtrip(cfg, topic), topic)
  })
}

test('OAUTHBEARER with a token provider supplied from JS (oauth_cb)', async () => {
  const topic = await createTopic(1, 'oauth')
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const calls = []
  const cfg = {
    'bootstrap.servers': env.bootstrap.oauth,
    'broker.address.family': 'v4',
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanisms': 'OAUTHBEARER',
    'sasl.oauthbearer.config': 'scope=test',
    oauth_cb: async (oauthConfig) => {
      calls.push(oauthConfig)
      const now = Math.floor(Date.now() / 1000)
      return { token: `${b64({ alg: 'none' })}.${b64({ sub: 'oauth-user', iat: now, exp: now + 3600 })}.`, lifetimeMs: (now + 3600) * 1000, principal: 'oauth-user' }
    },
  }
  assertRoundtrip(await roundtrip(cfg, topic), topic)
  assert.ok(calls.length >= 2, 'both the producer and the consumer asked the provider')
  assert.equal(calls[0], 'scope=test')
})

test('OAUTHBEARER: a failing provider surfaces as an error event', async () => {
  // librdkafka asks for the first token while the client is being created:
  // several fresh clients in a row make sure that request reaches oauth_cb.
  for (let i = 0; i < 5; i++) {
    const p = new Producer({
      'bootstrap.servers': env.bootstrap.oauth,
      'broker.address.family': 'v4',
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanisms': 'OAUTHBEARER',
      'message.timeout.ms': 5000,
      oauth_cb: async () => {
        throw new Error('identity provider down')
      },
    })
    const err = new Promise((resolve) => p.once('error', resolve))
    p.send({ topic: unique('never'), value: 'x' }).catch(() => {})
    const e = await err
    assert.ok(e instanceof KafkaError)
    assert.match(e.message, /identity provider down/)
    const t0 = Date.now()
    await p.close(1000) // the send can't complete: close gives up after its bound
    const took = Date.now() - t0
    assert.ok(took < 1800, `close(1000) took ${took} ms: flush and shutdown share one bound`)
  }
})
