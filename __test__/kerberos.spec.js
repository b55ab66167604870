'use strict'
// Kerberos against the real MIT KDC and broker: in-process login, ticket
// caches, per-client identity, renewal and actionable diagnostics.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { mkdtempSync, symlinkSync, writeFileSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join, dirname } = require('node:path')
const { Producer, Consumer, KafkaError } = require('..')
const { gssapi, createTopic, testEnv, unique } = require('./helpers')

const env = testEnv()
const realmKdc = env.kdc

function nodeOnlyBin() {
  const dir = mkdtempSync(join(tmpdir(), 'krafka-bin-'))
  symlinkSync(process.execPath, join(dir, 'node'))
  return dir
}

/** Runs fixtures/krb-client.js with a clean environment: PATH holds only node. */
function krbClient(config, topic, extraEnv = {}) {
  const childEnv = { PATH: nodeOnlyBin(), HOME: mkdtempSync(join(tmpdir(), 'krafka-home-')), KRB5_CONFIG: env.krb5Conf, ...extraEnv }
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k]
  const out = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'krb-client.js'), JSON.stringify(config), topic], {
    env: childEnv,
    encoding: 'utf8',
    timeout: 30000,
  })
  return JSON.parse(out.trim().split('\n').pop())
}

/** MIT's own tools (kinit, kadmin.local, ktutil) against the test realm. */
function mit(tool, args, input) {
  const kdcConf = join(dirname(env.krb5Conf), 'kdc', 'kdc.conf')
  return execFileSync(tool, args, {
    env: { ...process.env, KRB5_CONFIG: env.krb5Conf, KRB5_KDC_PROFILE: kdcConf, PATH: `${process.env.PATH}:/usr/sbin:/usr/bin` },
    encoding: 'utf8',
    input,
  })
}

function assertKrbError(r, code, phrase) {
  assert.ok(r.error, `expected ${code}, got ${JSON.stringify(r)}`)
  assert.equal(r.error.code, code, JSON.stringify(r.error))
  assert.match(r.error.message, phrase)
  assert.match(r.error.message, /Fix:/)
  assert.ok(r.ms < 10000, `took ${r.ms} ms`)
}

test('an existing ticket cache (the user ran kinit) works without a keytab', async () => {
  const topic = await createTopic(1, 'krb-ccache')
  const cache = join(mkdtempSync(join(tmpdir(), 'krafka-cc-')), 'cc')
  mit('kinit', ['-k', '-t', env.principals.client.keytab, '-c', `FILE:${cache}`, env.principals.client.principal])
  const cfg = gssapi('client')
  delete cfg['sasl.kerberos.keytab']
  const r = krbClient(cfg, topic, { KRB5CCNAME: `FILE:${cache}` })
  assert.ok(r.report, JSON.stringify(r))
  assert.equal(r.report.topic, topic)
})

test('realm and KDC from the client config: no krb5.conf needed', async () => {
  const topic = await createTopic(1, 'krb-realm')
  const r = krbClient({ ...gssapi('client'), 'krafka.kerberos.realm': env.realm, 'krafka.kerberos.kdc': realmKdc }, topic, {
    KRB5_CONFIG: undefined,
  })
  assert.ok(r.report, JSON.stringify(r))
})

test('diagnostics: no credentials at all', async () => {
  const cfg = gssapi('client')
  delete cfg['sasl.kerberos.keytab']
  const r = krbClient(cfg, unique('t'), { KRB5CCNAME: `FILE:${join(tmpdir(), unique('empty-cc'))}` })
  assertKrbError(r, 'ERR__KRB5_NO_CREDENTIALS', /credentials/i)
})

test('diagnostics: keytab missing or unreadable', async () => {
  const r = krbClient({ ...gssapi('client'), 'sasl.kerberos.keytab': '/nonexistent/app.keytab' }, unique('t'))
  assertKrbError(r, 'ERR__KRB5_KEYTAB_UNREADABLE', /\/nonexistent\/app\.keytab/)
})

test('diagnostics: principal not in the keytab', async () => {
  const r = krbClient({ ...gssapi('alice'), 'sasl.kerberos.keytab': env.principals.bob.keytab }, unique('t'))
  assertKrbError(r, 'ERR__KRB5_PRINCIPAL_NOT_IN_KEYTAB', /alice@KRAFKA\.TEST/)
})

test('diagnostics: stale key version in the keytab', async () => {
  const name = `stale-${Date.now()}@${env.realm}`
  const keytab = join(mkdtempSync(join(tmpdir(), 'krafka-kt-')), 'stale.keytab')
  mit('kadmin.local', ['-r', env.realm, '-q', `addprinc -randkey ${name}`])
  mit('kadmin.local', ['-r', env.realm, '-q', `ktadd -k ${keytab} ${name}`])
  mit('kadmin.local', ['-r', env.realm, '-q', `cpw -randkey ${name}`]) // the keytab is now stale
  const r = krbClient({ ...gssapi('client'), 'sasl.kerberos.principal': name, 'sasl.kerberos.keytab': keytab }, unique('t'))
  assertKrbError(r, 'ERR__KRB5_STALE_KEY', /no longer matches/)
})

test('diagnostics: KDC unreachable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'krafka-krb5-'))
  const conf = join(dir, 'krb5.conf')
  writeFileSync(conf, `[libdefaults]\n default_realm = ${env.realm}\n dns_lookup_kdc = false\n udp_preference_limit = 1\n[realms]\n ${env.realm} = {\n  kdc = 127.0.0.1:9\n }\n`)
  const r = krbClient(gssapi('client'), unique('t'), { KRB5_CONFIG: conf })
  assertKrbError(r, 'ERR__KRB5_KDC_UNREACHABLE', /KRAFKA\.TEST/)
})

test('diagnostics: unknown realm', async () => {
  const keytab = join(mkdtempSync(join(tmpdir(), 'krafka-kt-')), 'ghost.keytab')
  mit('ktutil', [], `addent -password -p ghost@NOWHERE.TEST -k 1 -e aes256-cts-hmac-sha1-96\nsecret\nwkt ${keytab}\nquit\n`)
  const r = krbClient({ ...gssapi('client'), 'sasl.kerberos.principal': 'ghost@NOWHERE.TEST', 'sasl.kerberos.keytab': keytab }, unique('t'))
  assertKrbError(r, 'ERR__KRB5_UNKNOWN_REALM', /NOWHERE\.TEST/)
})

test('diagnostics: unknown service principal (wrong sasl.kerberos.service.name)', async () => {
  const r = krbClient({ ...gssapi('client'), 'sasl.kerberos.service.name': 'kafkaa' }, unique('t'))
  assertKrbError(r, 'ERR__KRB5_SERVICE_UNKNOWN', /kafkaa/)
})

test('checkKerberos walks all 7 steps and passes on a healthy setup', async () => {
  process.env.KRB5_CONFIG = env.krb5Conf
  const { checkKerberos } = require('..')
  const r = await checkKerberos(gssapi('client'))
  assert.deepEqual(r.steps.map((s) => s.step), [
    'krb5 config and realm',
    'KDC reachable',
    'keytab',
    'TGT obtained',
    'service ticket',
    'clock skew',
    'broker SASL handshake',
  ])
  assert.ok(r.ok, JSON.stringify(r.steps))
  assert.match(r.steps[2].detail, /kvno \d+ aes256-cts/)
})

test('krafka doctor: a Java client.properties (sasl.jaas.config) passes; a wrong service name fails at the service ticket with a fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'krafka-doctor-'))
  const props = join(dir, 'client.properties')
  const c = env.principals.client
  writeFileSync(
    props,
    [
      '# a Java client config, reused as is',
      `bootstrap.servers=${env.bootstrap.gssapi}`,
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=GSSAPI',
      'sasl.kerberos.service.name=kafka',
      `sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="${c.keytab}" principal="${c.principal}";`,
      '',
    ].join('\n')
  )
  const cli = join(__dirname, '..', 'bin', 'krafka.js')
  const run = (extra) => {
    try {
      return { code: 0, out: execFileSync(process.execPath, [cli, 'doctor', '--config', props, ...extra], { env: { ...process.env, KRB5_CONFIG: env.krb5Conf }, encoding: 'utf8', timeout: 30000 }) }
    } catch (e) {
      return { code: e.status, out: e.stdout }
    }
  }
  const good = run([])
  assert.equal(good.code, 0, good.out)
  assert.equal((good.out.match(/^✔/gm) || []).length, 7, good.out)
  const bad = run(['--set', 'sasl.kerberos.service.name=kafkax'])
  assert.equal(bad.code, 1, bad.out)
  assert.match(bad.out, /✘ 5\. service ticket/)
  assert.match(bad.out, /ERR__KRB5_SERVICE_UNKNOWN/)
  assert.match(bad.out, /fix: .*sasl\.kerberos\.service\.name/)
})

test('diagnostics: clock skew too great (faketime +1h, kdc_timesync off)', async (t) => {
  const lib = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1'].find((f) => require('node:fs').existsSync(f))
  assert.ok(lib, 'libfaketime is installed by scripts/env-up.sh')
  const conf = join(mkdtempSync(join(tmpdir(), 'krafka-krb5-')), 'krb5.conf')
  writeFileSync(conf, `[libdefaults]\n default_realm = ${env.realm}\n dns_lookup_kdc = false\n dns_canonicalize_hostname = false\n rdns = false\n udp_preference_limit = 1\n kdc_timesync = 0\n[realms]\n ${env.realm} = {\n  kdc = ${realmKdc}\n }\n`)
  const r = krbClient(gssapi('client'), unique('t'), { KRB5_CONFIG: conf, LD_PRELOAD: lib, FAKETIME: '+1h' })
  assertKrbError(r, 'ERR__KRB5_CLOCK_SKEW', /[Cc]lock skew/)
})

test('checkKerberos names the failing step and cause for each broken setup, within 10 s', async () => {
  const { checkKerberos } = require('..')
  process.env.KRB5_CONFIG = env.krb5Conf
  const cases = [
    [{ 'sasl.kerberos.keytab': '/nonexistent/app.keytab' }, 'keytab', 'ERR__KRB5_KEYTAB_UNREADABLE'],
    [{ 'sasl.kerberos.principal': env.principals.alice.principal, 'sasl.kerberos.keytab': env.principals.bob.keytab }, 'keytab', 'ERR__KRB5_PRINCIPAL_NOT_IN_KEYTAB'],
    [{ 'sasl.kerberos.principal': 'ghost@NOWHERE.TEST' }, 'krb5 config and realm', 'ERR__KRB5_UNKNOWN_REALM'],
    [{ 'krafka.kerberos.realm': env.realm, 'krafka.kerberos.kdc': '127.0.0.1:9' }, 'KDC reachable', 'ERR__KRB5_KDC_UNREACHABLE'],
  ]
  try {
    for (const [over, step, code] of cases) {
      const t0 = Date.now()
      const r = await checkKerberos({ ...gssapi('client'), ...over })
      const last = r.steps[r.steps.length - 1]
      assert.equal(r.ok, false)
      assert.equal(last.step, step, JSON.stringify(r.steps))
      assert.equal(last.code, code, JSON.stringify(last))
      assert.ok(last.fix && last.fix.length > 10)
      assert.ok(Date.now() - t0 < 10000)
    }
  } finally {
    process.env.KRB5_CONFIG = env.krb5Conf // krafka.kerberos.* points KRB5_CONFIG elsewhere
  }
})
