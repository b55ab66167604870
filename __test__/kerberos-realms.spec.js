'use strict'
// Two realms in one process (a bridge between two Kerberized clusters, say):
// krafka.kerberos.realm/kdc write a krb5.conf per realm, and krb5 reads them
// through KRB5_CONFIG, which is process-wide. Configuring a second realm must
// not take the first one away from the first realm's clients: they log in
// again (renewal) and fetch service tickets long after they were made.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Producer, KafkaError } = require('..')
const { gssapi, createTopic, testEnv } = require('./helpers')

const env = testEnv()
const LIFETIME_S = 90 // the 'shortlived' principal's tickets (scripts/env-up.sh)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

test('a second realm configured later leaves the first realm\'s client renewing and re-authenticating', { timeout: 300000 }, async () => {
  delete process.env.KRB5_CONFIG // no krb5.conf but the ones krafka writes
  const topic = await createTopic(1, 'krb-realms')
  // Its principal without @REALM: it is in krafka.kerberos.realm, whichever realm krb5's default becomes.
  const shortName = env.principals.shortlived.principal.split('@')[0]
  const first = new Producer(gssapi('shortlived', {
    'sasl.kerberos.principal': shortName,
    'krafka.kerberos.realm': env.realm,
    'krafka.kerberos.kdc': env.kdc,
    'connections.max.idle.ms': 5000,
    'message.timeout.ms': 20000,
  }))
  const authErrors = []
  first.on('error', (e) => {
    if (/AUTH|KRB5|SASL/i.test(`${e.code} ${e.message}`)) authErrors.push(`${e.code} ${e.message}`)
  })
  try {
    const r0 = await first.send({ topic, value: 'before' })
    assert.equal(r0.topic, topic)

    // A client of another realm, whose KDC is down: it cannot log in (it says so), but its realm is now configured too.
    const second = new Producer(gssapi('client', { 'sasl.kerberos.principal': 'svc@OTHER.TEST', 'krafka.kerberos.realm': 'OTHER.TEST', 'krafka.kerberos.kdc': '127.0.0.1:9', 'message.timeout.ms': 5000 }))
    second.on('error', () => {})
    await assert.rejects(second.send({ topic, value: 'never' }), (e) => e instanceof KafkaError)
    await second.close()
    assert.ok(process.env.KRB5_CONFIG.split(':').length >= 2, `both realms' files: ${process.env.KRB5_CONFIG}`)

    // Past the first client's ticket lifetime: it renews its login at 80 % of
    // it (through a new krb5 context, which reads KRB5_CONFIG again), and each
    // send after an idle connection closed authenticates anew.
    const t0 = Date.now()
    let sent = 0
    while (Date.now() - t0 < (LIFETIME_S + 15) * 1000) {
      await sleep(7000)
      const r = await first.send({ topic, value: `after-${sent}` })
      assert.equal(r.topic, topic)
      assert.ok(r.offset > 0, `offset ${r.offset} at +${((Date.now() - t0) / 1000).toFixed(0)} s`)
      sent++
    }
    assert.ok(sent >= 12, `sent ${sent}`)
    assert.deepEqual(authErrors, [])
  } finally {
    await first.close()
  }
})

test('checkKerberos, like the login, takes a principal without @REALM to be in krafka.kerberos.realm', async () => {
  const { checkKerberos } = require('..')
  const shortName = env.principals.client.principal.split('@')[0]
  const r = await checkKerberos(gssapi('client', { 'sasl.kerberos.principal': shortName, 'krafka.kerberos.realm': env.realm, 'krafka.kerberos.kdc': env.kdc }))
  assert.equal(r.ok, true, JSON.stringify(r.steps))
  assert.equal(r.steps.length, 7)
  assert.ok(r.steps.some((s) => s.detail && s.detail.includes(env.principals.client.principal)), JSON.stringify(r.steps))
})
