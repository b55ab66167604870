'use strict'
// Renewal: a principal whose tickets live 90 s (see scripts/env-up.sh) keeps
// producing and consuming across 3 ticket lifetimes, through new connections
// made after expiry, with zero authentication errors. krafka's in-process
// login renews the TGT at 80 % of its life; the clients close idle
// connections after 5 s (`connections.max.idle.ms`) so every round trip
// re-authenticates, and a fresh consumer joins every 40 s.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { mkdtempSync, symlinkSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { Producer, Consumer } = require('..')
const { gssapi, createTopic, testEnv, unique } = require('./helpers')

const env = testEnv()
const LIFETIME_S = 90
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

test('producer and consumer keep working across 3 ticket lifetimes (90 s tickets)', { timeout: 420000 }, async (t) => {
  process.env.KRB5_CONFIG = env.krb5Conf
  const topic = await createTopic(1, 'krb-renew')
  // An expired-ticket cache for the diagnostics check at the end.
  const expiredCache = join(mkdtempSync(join(tmpdir(), 'krafka-cc-')), 'cc')
  execFileSync('kinit', ['-k', '-t', env.principals.shortlived.keytab, '-c', `FILE:${expiredCache}`, env.principals.shortlived.principal], {
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/bin` },
  })

  const cfg = gssapi('shortlived', { 'connections.max.idle.ms': 5000 })
  const authErrors = []
  const watch = (client, name) => client.on('error', (e) => {
    if (/AUTH|KRB5|SASL/i.test(`${e.code} ${e.message}`)) authErrors.push(`${name}: ${e.code} ${e.message}`)
  })
  const producer = new Producer(cfg)
  watch(producer, 'producer')
  const consumer = new Consumer({ ...cfg, 'group.id': unique('renew'), 'auto.offset.reset': 'earliest' })
  watch(consumer, 'consumer')
  consumer.subscribe([topic])

  const t0 = Date.now()
  const end = t0 + (3 * LIFETIME_S + 15) * 1000
  let sent = 0
  let received = 0
  let freshConsumers = 0
  let nextFresh = t0 + 40000
  while (Date.now() < end) {
    await producer.send({ topic, value: `m${sent}` })
    sent++
    const deadline = Date.now() + 15000
    while (received < sent && Date.now() < deadline) received += (await consumer.consume(100, 500)).length
    assert.equal(received, sent, `message ${sent - 1} not consumed at +${((Date.now() - t0) / 1000).toFixed(0)} s`)
    if (Date.now() >= nextFresh) {
      // A brand-new client: new connections, new service tickets, after earlier tickets expired.
      const fresh = new Consumer({ ...cfg, 'group.id': unique('fresh'), 'auto.offset.reset': 'earliest' })
      watch(fresh, 'fresh consumer')
      fresh.subscribe([topic])
      let n = 0
      const d = Date.now() + 20000
      while (n < sent && Date.now() < d) n += (await fresh.consume(1000, 500)).length
      await fresh.close()
      assert.equal(n, sent, 'a fresh consumer after expiry must read everything')
      freshConsumers++
      nextFresh += 40000
    }
    await sleep(7000) // longer than connections.max.idle.ms: the next send reconnects
  }
  await producer.close()
  await consumer.close()
  t.diagnostic(`renewal: ${sent} round trips and ${freshConsumers} fresh consumers over ${((Date.now() - t0) / 1000).toFixed(0)} s (ticket life ${LIFETIME_S} s)`)
  assert.deepEqual(authErrors, [])
  assert.ok(Date.now() - t0 >= 3 * LIFETIME_S * 1000)

  // The kinit cache from the start has expired by now: a clear diagnosis.
  const bin = mkdtempSync(join(tmpdir(), 'krafka-bin-'))
  symlinkSync(process.execPath, join(bin, 'node'))
  const noKeytab = gssapi('shortlived')
  delete noKeytab['sasl.kerberos.keytab']
  const out = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'krb-client.js'), JSON.stringify(noKeytab), topic], {
    env: { PATH: bin, KRB5_CONFIG: env.krb5Conf, KRB5CCNAME: `FILE:${expiredCache}` },
    encoding: 'utf8',
    timeout: 30000,
  })
  const r = JSON.parse(out.trim().split('\n').pop())
  assert.equal(r.error && r.error.code, 'ERR__KRB5_EXPIRED', out)
  assert.ok(r.ms < 10000)
})
