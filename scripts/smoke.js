'use strict'
// Load-and-features smoke test of an installed krafka, for every release target
// (the release workflow runs it on each OS from packed tarballs; pack.spec.js
// runs it here). Needs no broker and no KDC:
//   1. `require('krafka')` resolved from <dir> loads the native addon;
//   2. librdkafka's builtin features include Kerberos, TLS, SCRAM, OAUTHBEARER
//      and every compression codec;
//   3. a SASL/GSSAPI client config is accepted (Linux/macOS: vendored MIT
//      krb5 + Cyrus SASL; Windows: librdkafka's SSPI provider);
//   4. a produce -> consume round trip on librdkafka's in-process mock cluster.
// Prints one JSON line with what it found; exits non-zero on any failure.
//
//   node scripts/smoke.js [dir]   (dir: where to resolve `krafka` from; default: this repo)
const assert = require('node:assert/strict')
const { join, resolve } = require('node:path')

const from = resolve(process.argv[2] || join(__dirname, '..'))
const entry = process.argv[2] ? require.resolve('krafka', { paths: [from] }) : join(from, 'krafka.js')

const REQUIRED_FEATURES = ['sasl_gssapi', 'ssl', 'sasl_scram', 'sasl_oauthbearer', 'sasl_plain', 'zstd', 'lz4', 'snappy', 'gzip']

async function main() {
  const { Producer, Consumer, MockCluster, features, librdkafkaVersion } = require(entry)
  for (const f of REQUIRED_FEATURES) assert.ok(features.includes(f), `features lacks ${f}: ${features}`)
  assert.match(librdkafkaVersion, /^2\.\d+\.\d+/)

  // GSSAPI config: no keytab, so Linux/macOS use the default ticket cache and
  // Windows the logged-on user's SSPI credentials. Constructing validates the
  // config; nothing listens on the address, so close at once.
  const gssapi = new Producer({
    'bootstrap.servers': '127.0.0.1:9',
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanisms': 'GSSAPI',
    'sasl.kerberos.service.name': 'kafka',
    'message.timeout.ms': 1000,
  })
  await gssapi.close()

  const mock = new MockCluster(1)
  const topic = `krafka-smoke-${process.pid}`
  try {
    const producer = new Producer({ 'bootstrap.servers': mock.bootstrapServers })
    const report = await producer.send({ topic, key: 'k', value: 'v', headers: { h: 'x' } })
    await producer.close()
    const consumer = new Consumer({
      'bootstrap.servers': mock.bootstrapServers,
      'group.id': `${topic}-g`,
      'auto.offset.reset': 'earliest',
      'fetch.queue.backoff.ms': 10,
    })
    consumer.subscribe([topic])
    let got = null
    const deadline = Date.now() + 30000
    while (!got && Date.now() < deadline) {
      got = (await consumer.consume(10, 500)).find((m) => m.offset === report.offset) || null
    }
    await consumer.close()
    assert.ok(got, 'mock cluster round trip: message not consumed back')
    assert.equal(got.key.toString(), 'k')
    assert.equal(got.value.toString(), 'v')
  } finally {
    mock.stop()
  }
  // The native addon(s) this process actually loaded, to tell which package they came from.
  const addons = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'))
  console.log(JSON.stringify({ ok: true, entry, addons, platform: `${process.platform}-${process.arch}`, node: process.version, librdkafkaVersion, features }))
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
