'use strict'
// `npm install krafka` as a user gets it: no compiler, no Rust, no system
// Kerberos or SASL. Packs the main package and this host's platform package
// (npm/<platform>/ plus the already built .node; nothing is built here) into
// tarballs, installs them into a fresh project outside the repo with a PATH
// that holds only `node`, and uses them from there: CJS, ESM, TypeScript
// (tsc --strict) and a GSSAPI round trip against the real test environment.
// Also reports and checks the binary itself (ldd, glibc floor, size).
//
// The install runs with `--offline` and an empty private cache: npm reads
// nothing from a registry. The main package's optionalDependencies on the
// other platforms' packages cannot be resolved then and are skipped, as npm
// does for any optional dependency; this host's one is satisfied by its tarball.
//
// KRAFKA_MAX_GLIBC=2.28 turns the reported glibc floor into an assertion (the
// release workflow's manylinux_2_28 build sets it). KRAFKA_KEEP_PACK=1 keeps
// the temporary directory.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const { tmpdir } = require('node:os')
const { basename, delimiter, dirname, join, sep } = require('node:path')
const { root, testEnv, plaintext, gssapi, unique } = require('./helpers')

const pkg = require('../package.json')

/** The napi targets we publish, and what their platform packages must declare. */
const TARGETS = {
  'x86_64-unknown-linux-gnu': { dir: 'linux-x64-gnu', os: 'linux', cpu: 'x64', libc: 'glibc' },
  'aarch64-unknown-linux-gnu': { dir: 'linux-arm64-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'x86_64-unknown-linux-musl': { dir: 'linux-x64-musl', os: 'linux', cpu: 'x64', libc: 'musl' },
  'aarch64-unknown-linux-musl': { dir: 'linux-arm64-musl', os: 'linux', cpu: 'arm64', libc: 'musl' },
  'x86_64-apple-darwin': { dir: 'darwin-x64', os: 'darwin', cpu: 'x64' },
  'aarch64-apple-darwin': { dir: 'darwin-arm64', os: 'darwin', cpu: 'arm64' },
  'x86_64-pc-windows-msvc': { dir: 'win32-x64-msvc', os: 'win32', cpu: 'x64' },
}

/** The C runtime: the only shared libraries the addon may need. */
const C_RUNTIME = /^(linux-vdso\.so|linux-gate\.so|\/lib(64)?\/ld-linux|ld-linux|libc\.so|libm\.so|libgcc_s\.so|libstdc\+\+\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so)/

/** The platform package this host installs, named as napi's loader names it. */
function hostPlatformDir() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** npm's own CLI script, so npm can run with only `node` on PATH. */
function npmCli() {
  const candidates = []
  if (process.env.npm_execpath && basename(process.env.npm_execpath) === 'npm-cli.js') candidates.push(process.env.npm_execpath)
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const f = join(dir, 'npm')
    if (fs.existsSync(f)) candidates.push(join(dirname(fs.realpathSync(f)), 'npm-cli.js'))
  }
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'))
  const found = candidates.find((f) => fs.existsSync(f))
  if (!found) throw new Error(`npm-cli.js not found (tried ${candidates.join(', ')})`)
  return found
}

const mib = (n) => `${(n / 1048576).toFixed(2)} MiB`
const host = hostPlatformDir()
const addonName = `krafka.${host}.node`
// The release addon (scripts/build-glibc228.sh, glibc 2.28 floor) when npm test built it.
const builtAddon = process.env.KRAFKA_RELEASE_ADDON || join(root, addonName)
const work = fs.mkdtempSync(join(tmpdir(), 'krafka-pack-'))
const bin = join(work, 'bin') // PATH for everything that runs "as the user": node only
const home = join(work, 'home')
const proj = join(work, 'proj') // main + platform tarballs
const lone = join(work, 'lone') // main tarball alone
const npm = npmCli()
const state = {} // filled by the tests in order; later tests need earlier ones

fs.mkdirSync(bin)
fs.mkdirSync(home)
fs.symlinkSync(process.execPath, join(bin, 'node'))
const userEnv = (extra = {}) => ({ PATH: bin, HOME: home, TMPDIR: tmpdir(), ...extra })

/** Runs `node args...` as the user would: PATH holds only node. Returns { status, stdout, stderr }. */
function userNode(args, { cwd = proj, env = {}, timeout = 60000 } = {}) {
  return spawnSync(join(bin, 'node'), args, { cwd, env: userEnv(env), encoding: 'utf8', timeout })
}

/** npm with an empty private cache, offline: nothing comes from a registry. */
function userNpm(args, cwd) {
  const r = userNode([npm, ...args, '--offline', `--cache=${join(work, 'npm-cache')}`, '--no-audit', '--no-fund', '--update-notifier=false'], { cwd, timeout: 120000 })
  assert.equal(r.status, 0, `npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  return r
}

function ok(r, what) {
  assert.equal(r.status, 0, `${what} failed (status ${r.status}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

test.after(() => {
  if (process.env.KRAFKA_KEEP_PACK) console.log(`# kept ${work}`)
  else fs.rmSync(work, { recursive: true, force: true })
})

test('package.json lists every target, and each npm/<platform> package declares its os, cpu and libc', () => {
  assert.deepEqual([...pkg.napi.targets].sort(), Object.keys(TARGETS).sort())
  assert.deepEqual(
    pkg.optionalDependencies,
    Object.fromEntries(Object.values(TARGETS).map((t) => [`krafka-${t.dir}`, pkg.version])),
    'optionalDependencies must name every platform package at the main version'
  )
  const loader = fs.readFileSync(join(root, 'index.js'), 'utf8')
  for (const t of Object.values(TARGETS)) {
    const p = JSON.parse(fs.readFileSync(join(root, 'npm', t.dir, 'package.json'), 'utf8'))
    const node = `krafka.${t.dir}.node`
    assert.equal(p.name, `krafka-${t.dir}`)
    assert.equal(p.version, pkg.version, `${p.name}: version`)
    assert.deepEqual(p.os, [t.os], `${p.name}: os`)
    assert.deepEqual(p.cpu, [t.cpu], `${p.name}: cpu`)
    assert.deepEqual(p.libc, t.libc && [t.libc], `${p.name}: libc`)
    assert.equal(p.main, node, `${p.name}: main`)
    assert.deepEqual(p.files, [node], `${p.name}: files`)
    // The generated loader tries the local .node, then this package by name.
    assert.ok(loader.includes(`require('krafka-${t.dir}')`), `index.js does not load krafka-${t.dir}`)
  }
  assert.ok(Object.values(TARGETS).some((t) => t.dir === host), `this host (${host}) is not a release target`)
})

test('npm pack: the main package (JS and types only) and the platform package (the .node)', (t) => {
  assert.ok(fs.existsSync(builtAddon), `${builtAddon} is missing: run \`npm run build\` (npm test does it)`)
  const pack = (cwd) => {
    const out = execFileSync(process.execPath, [npm, 'pack', '--json', '--ignore-scripts', `--pack-destination=${work}`], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const [info] = JSON.parse(out)
    return { ...info, path: join(work, info.filename), files: info.files.map((f) => f.path).sort() }
  }
  const main = pack(root)
  for (const f of ['README.md', 'package.json', 'index.js', 'index.d.ts', 'krafka.js', 'krafka.d.ts']) {
    assert.ok(main.files.includes(f), `main package lacks ${f}: ${main.files}`)
  }
  // Only what package.json's `files` names (npm always adds README, LICENSE,
  // package.json); above all no .node: the loader would take it over the
  // platform package.
  const listed = (f) => ['README.md', 'LICENSE', 'package.json'].includes(f) || pkg.files.some((p) => (p.endsWith('/') ? f.startsWith(p) : f === p))
  assert.deepEqual(main.files.filter((f) => !listed(f) || f.endsWith('.node')), [], 'unexpected files in the main package')

  // A throwaway copy of npm/<platform>/ with the built addon in it: the repo's
  // npm/ stays as committed (the .node is git-ignored there anyway).
  const platSrc = join(work, `src-${host}`)
  fs.mkdirSync(platSrc)
  for (const f of fs.readdirSync(join(root, 'npm', host))) fs.copyFileSync(join(root, 'npm', host, f), join(platSrc, f))
  fs.copyFileSync(builtAddon, join(platSrc, addonName))
  const plat = pack(platSrc)
  assert.deepEqual(plat.files, ['README.md', addonName, 'package.json'])

  state.tarballs = { main: main.path, plat: plat.path }
  t.diagnostic(`${main.filename}: ${(main.size / 1024).toFixed(1)} KiB packed, ${(main.unpackedSize / 1024).toFixed(1)} KiB unpacked`)
  t.diagnostic(`${plat.filename}: ${mib(plat.size)} packed, ${mib(plat.unpackedSize)} unpacked`)
})

test('npm install of the two tarballs in a fresh project outside the repo, with no compiler on PATH', (t) => {
  assert.ok(state.tarballs, 'npm pack failed (see above)')
  assert.ok(!proj.startsWith(root + sep), 'the project must live outside the repo')
  // Nothing that could build or fetch credentials is reachable: only `node` is on PATH.
  const probe = userNode(['-e', `
    const { spawnSync } = require('child_process')
    const found = ['cargo', 'rustc', 'cc', 'gcc', 'c++', 'clang', 'make', 'node-gyp', 'python3', 'kinit', 'npm']
      .filter((c) => !(spawnSync(c, ['--version']).error || {}).code)
    console.log(JSON.stringify(found))`], { cwd: work })
  assert.deepEqual(JSON.parse(ok(probe, 'PATH probe')), [], 'tools reachable from the user PATH')

  fs.mkdirSync(proj)
  fs.writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'krafka-pack-check', version: '1.0.0', private: true }, null, 2))
  const t0 = process.hrtime.bigint()
  userNpm(['install', state.tarballs.main, state.tarballs.plat], proj)
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  t.diagnostic(`npm install (2 tarballs, offline, empty cache): ${(ms / 1000).toFixed(2)} s`)

  const installed = join(proj, 'node_modules', `krafka-${host}`, addonName)
  assert.ok(fs.existsSync(installed), `${installed} not installed`)
  assert.deepEqual(fs.readdirSync(join(proj, 'node_modules', 'krafka')).filter((f) => f.endsWith('.node')), [], 'the main package must carry no .node')
  state.installed = installed
})

test('CJS require from the installed package: loads the platform package, features include sasl_gssapi, mock-cluster round trip', () => {
  assert.ok(state.installed, 'install failed (see above)')
  const out = ok(userNode([join(root, 'scripts', 'smoke.js'), proj]), 'scripts/smoke.js')
  const r = JSON.parse(out.trim().split('\n').pop())
  assert.equal(r.entry, join(proj, 'node_modules', 'krafka', 'krafka.js'))
  assert.deepEqual(r.addons, [state.installed], 'the addon must come from the installed platform package')
  assert.ok(r.features.includes('sasl_gssapi'), r.features)
})

test('ESM import from the installed package', () => {
  assert.ok(state.installed, 'install failed (see above)')
  fs.writeFileSync(
    join(proj, 'esm.mjs'),
    `import { Producer, Consumer, Admin, KafkaError, features, librdkafkaVersion } from 'krafka'
import krafka from 'krafka'
console.log(JSON.stringify({
  producer: typeof Producer, consumer: typeof Consumer, admin: typeof Admin, kafkaError: typeof KafkaError,
  gssapi: features.includes('sasl_gssapi'), version: librdkafkaVersion, same: krafka.Producer === Producer,
}))
`
  )
  const r = JSON.parse(ok(userNode(['esm.mjs']), 'node esm.mjs').trim())
  assert.deepEqual(r, { producer: 'function', consumer: 'function', admin: 'function', kafkaError: 'function', gssapi: true, version: r.version, same: true })
  assert.match(r.version, /^2\.\d+\.\d+/)
})

test('a TypeScript user of the installed types passes tsc --strict (ESM and CJS)', () => {
  assert.ok(state.installed, 'install failed (see above)')
  const body = `
const config = {
  'bootstrap.servers': 'localhost:9093',
  'security.protocol': 'SASL_PLAINTEXT',
  'sasl.mechanisms': 'GSSAPI',
  'sasl.kerberos.service.name': 'kafka',
  'sasl.kerberos.principal': 'svc@EXAMPLE.COM',
  'sasl.kerberos.keytab': '/etc/svc.keytab',
}

export async function run(): Promise<DeliveryReport> {
  const hasGssapi: boolean = features.includes('sasl_gssapi')
  const producer = new Producer(config)
  const report = await producer.send({ topic: 'orders', key: 'k', value: JSON.stringify({ hasGssapi }), headers: { source: 'web' } })
  const offset: number = report.offset
  // @ts-expect-error a record value is bytes or a string, not a number
  await producer.send({ topic: 'orders', value: 42 })
  await producer.close()
  const consumer = new Consumer({ ...config, 'group.id': 'billing' })
  consumer.subscribe(['orders'])
  for await (const msg of consumer) {
    const value: Buffer | null = msg.value
    void value
    break
  }
  return { ...report, offset }
}

run().catch((e: unknown) => {
  if (e instanceof KafkaError) console.error(e.code, e.retriable)
})
`
  fs.writeFileSync(join(proj, 'check.mts'), `import { Producer, Consumer, KafkaError, features } from 'krafka'\nimport type { DeliveryReport } from 'krafka'\n${body}`)
  fs.writeFileSync(join(proj, 'check.cts'), `import krafka = require('krafka')\nconst { Producer, Consumer, KafkaError, features } = krafka\ntype DeliveryReport = krafka.DeliveryReport\n${body}`)
  fs.writeFileSync(
    join(proj, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        skipLibCheck: false, // check krafka's .d.ts files too
        // @types/node is the user's own dev dependency; borrow the repo's (no registry here).
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: ['check.mts', 'check.cts'],
    })
  )
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] })
  ok(userNode([tsc, '-p', 'tsconfig.json'], { timeout: 90000 }), 'tsc --strict')
})

test('GSSAPI produce/consume round trip from the installed package (keytab, in-process login, no kinit)', () => {
  assert.ok(state.installed, 'install failed (see above)')
  const env = testEnv()
  fs.mkdirSync(join(proj, 't', 'fixtures'), { recursive: true })
  fs.copyFileSync(join(__dirname, 'fixtures', 'roundtrip.js'), join(proj, 't', 'fixtures', 'roundtrip.js'))
  fs.copyFileSync(join(__dirname, 'fixtures', 'installed-roundtrip.js'), join(proj, 'installed-roundtrip.js'))
  fs.writeFileSync(join(proj, 'index.js'), "module.exports = require('krafka')\n")
  const topic = unique('krafka-pack')
  const r = userNode(['installed-roundtrip.js', JSON.stringify(gssapi('client')), JSON.stringify(plaintext()), topic], {
    env: { KRB5_CONFIG: env.krb5Conf },
    timeout: 90000,
  })
  const last = JSON.parse((r.stdout.trim().split('\n').pop() || 'null'))
  assert.ok(last && last.ok, `round trip failed: ${r.stdout}\n${r.stderr}`)
  assert.equal(r.status, 0)
  assert.equal(last.krafka, join(proj, 'node_modules', 'krafka', 'krafka.js'))
  assert.equal(last.message.value, 'value-1')
})

test('main package without its platform package: npm install succeeds and the load error names the package to install', () => {
  assert.ok(state.tarballs, 'npm pack failed (see above)')
  fs.mkdirSync(lone)
  fs.writeFileSync(join(lone, 'package.json'), JSON.stringify({ name: 'krafka-lone-check', version: '1.0.0', private: true }, null, 2))
  userNpm(['install', state.tarballs.main], lone)
  assert.ok(!fs.existsSync(join(lone, 'node_modules', `krafka-${host}`)))
  const r = userNode(['-e', "require('krafka')"], { cwd: lone })
  assert.notEqual(r.status, 0, 'require must fail without the platform package')
  assert.match(r.stderr, /Cannot find native binding/)
  // napi's loader puts the per-candidate errors in `cause`, which Node prints.
  assert.ok(r.stderr.includes(`Cannot find module 'krafka-${host}'`), `the error does not name krafka-${host}:\n${r.stderr}`)
})

// Skipped off Linux on purpose: ldd, objdump and the glibc floor only mean something
// for ELF binaries; the release workflow runs this file on macOS and Windows too.
test('the installed .node: C runtime only, glibc floor, stripped size', { skip: process.platform !== 'linux' && 'ELF checks are Linux-only' }, (t) => {
  assert.ok(state.installed, 'install failed (see above)')
  const file = state.installed
  const ldd = execFileSync('ldd', [file], { encoding: 'utf8' })
  const libs = ldd.split('\n').map((l) => l.trim()).filter(Boolean)
  t.diagnostic(`ldd ${addonName}: ${libs.map((l) => l.replace(/\s*\(0x[0-9a-f]+\)$/, '')).join('; ')}`)
  assert.ok(!/not found/.test(ldd), ldd)
  for (const l of libs) assert.match(l.split(/\s+/)[0], C_RUNTIME, `dependency outside the C runtime: ${l}`)

  // Version references (.gnu.version_r): the newest GLIBC_x.y any symbol needs.
  const versions = execFileSync('readelf', ['-V', '--wide', file], { encoding: 'utf8' })
  const glibc = [...new Set([...versions.matchAll(/GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => m.slice(1).filter(Boolean).join('.')))]
  const cmp = (a, b) => { const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)]; for (let i = 0; i < 3; i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0); return 0 }
  const floor = glibc.sort(cmp).pop()
  if (floor) {
    const needing = execFileSync('objdump', ['-T', file], { encoding: 'utf8' })
      .split('\n').filter((l) => l.includes(`(GLIBC_${floor})`)).map((l) => l.trim().split(/\s+/).pop())
    t.diagnostic(`glibc floor: GLIBC_${floor} (target ≤ 2.28 for RHEL 8-era hosts; ${cmp(floor, '2.28') <= 0 ? 'met' : 'NOT met'}); needed by ${needing.length} symbols: ${needing.slice(0, 12).join(', ')}${needing.length > 12 ? ', ...' : ''}`)
    if (process.env.KRAFKA_MAX_GLIBC) assert.ok(cmp(floor, process.env.KRAFKA_MAX_GLIBC) <= 0, `needs GLIBC_${floor} > KRAFKA_MAX_GLIBC=${process.env.KRAFKA_MAX_GLIBC}`)
  } else {
    t.diagnostic('glibc floor: no GLIBC_ symbol versions (not a glibc build)')
  }

  // Stripped: no symbol table, no DWARF.
  const sections = execFileSync('readelf', ['-S', '--wide', file], { encoding: 'utf8' })
  assert.ok(!/\s\.symtab\s/.test(sections), 'the .node still has a .symtab (not stripped)')
  assert.ok(!/\s\.debug_/.test(sections), 'the .node still has DWARF sections')
  const size = fs.statSync(file).size
  const text = execFileSync('size', ['-A', file], { encoding: 'utf8' })
  const sec = Object.fromEntries(text.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => /^\./.test(p[0])).map((p) => [p[0], Number(p[1])]))
  t.diagnostic(`${addonName}: ${mib(size)} stripped (.text ${mib(sec['.text'] || 0)}, .rodata ${mib(sec['.rodata'] || 0)}, .eh_frame ${mib(sec['.eh_frame'] || 0)}, .data.rel.ro ${mib(sec['.data.rel.ro'] || 0)})`)
})
