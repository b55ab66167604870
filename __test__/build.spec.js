'use strict'
// The addon is self-contained: librdkafka, Cyrus SASL, MIT krb5, OpenSSL,
// zlib and zstd are linked in statically.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { readdirSync, statSync } = require('node:fs')
const { join } = require('node:path')
const krafka = require('..')
const { root } = require('./helpers')

test('exports librdkafka features and version', () => {
  assert.ok(Array.isArray(krafka.features))
  for (const f of ['sasl_gssapi', 'ssl', 'sasl_scram', 'sasl_oauthbearer', 'zstd', 'lz4', 'snappy', 'gzip']) {
    assert.ok(krafka.features.includes(f), `features lacks ${f}: ${krafka.features}`)
  }
  assert.match(krafka.librdkafkaVersion, /^2\.\d+\.\d+/)
})

test('the .node links no Kerberos, SASL, TLS or compression library dynamically', (t) => {
  const addon = readdirSync(root).find((f) => /^krafka\..*\.node$/.test(f))
  assert.ok(addon, 'built addon not found')
  const ldd = execFileSync('ldd', [join(root, addon)], { encoding: 'utf8' })
  t.diagnostic(`${addon}: ${(statSync(join(root, addon)).size / 1048576).toFixed(1)} MiB; ldd: ${ldd.replace(/\s*\(0x[0-9a-f]+\)/g, '').split('\n').map((l) => l.trim()).filter(Boolean).join(', ')}`)
  const forbidden = ['libsasl2', 'libkrb5', 'libgssapi_krb5', 'libk5crypto', 'libssl', 'libcrypto', 'libz.', 'libzstd', 'libcurl', 'liblz4']
  for (const lib of forbidden) assert.ok(!ldd.includes(lib), `${addon} depends on ${lib}:\n${ldd}`)
  assert.ok(!/not found/.test(ldd), ldd)
  const libs = ldd.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean)
  for (const l of libs) {
    assert.match(l, /^(linux-vdso|\/lib(64)?\/ld-linux|libc\.|libm\.|libgcc_s|libresolv|libpthread|libdl|librt|libstdc\+\+)/, `unexpected dependency ${l}`)
  }
})
