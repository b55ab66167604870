'use strict'
// GSSAPI from a keytab with no kinit reachable and no host krb5.conf: the
// client process gets a PATH holding only `node`, and the test env's
// krb5.conf is passed explicitly through KRB5_CONFIG.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const { mkdtempSync, symlinkSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { gssapi, createTopic, testEnv } = require('./helpers')
const { assertRoundtrip } = require('./fixtures/roundtrip')

function nodeOnlyPath() {
  const dir = mkdtempSync(join(tmpdir(), 'krafka-nokinit-'))
  symlinkSync(process.execPath, join(dir, 'node'))
  return dir
}

test('GSSAPI: keytab login in-process, no kinit on PATH, explicit krb5.conf', async () => {
  const env = testEnv()
  const topic = await createTopic(1, 'krafka-gssapi')
  const bin = nodeOnlyPath()
  const childEnv = { PATH: bin, KRB5_CONFIG: env.krb5Conf, HOME: mkdtempSync(join(tmpdir(), 'krafka-home-')) }
  // The child really cannot reach kinit.
  const which = spawnSync(join(bin, 'node'), ['-e', "require('child_process').execSync('kinit -V', {stdio: 'ignore'})"], { env: childEnv })
  assert.notEqual(which.status, 0, 'kinit must not be reachable from the client process')

  const out = execFileSync(join(bin, 'node'), [join(__dirname, 'fixtures', 'roundtrip.js'), JSON.stringify(gssapi('client')), topic], {
    env: childEnv,
    encoding: 'utf8',
    timeout: 90000,
  })
  const r = JSON.parse(out.trim().split('\n').pop())
  assert.ok(!r.error, JSON.stringify(r.error))
  assertRoundtrip(r, topic)
})
