'use strict'
// Where the native ceiling's binary is (crates/krafka-bench), for run.js and loop-floor.js.
const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..', '..')

/**
 * The native ceiling binary: BENCH_NATIVE_BIN, else target/<host>/release/krafka-bench, built
 * (napi build's target dir and triple, so the vendored stack is reused) when missing or stale
 * unless BENCH_BUILD=0. `log` tells of a build.
 */
function nativeBin(log) {
  if (process.env.BENCH_NATIVE_BIN) return process.env.BENCH_NATIVE_BIN
  const triple = /host: (\S+)/.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))[1]
  const bin = path.join(root, 'target', triple, 'release', 'krafka-bench')
  const src = path.join(root, 'crates', 'krafka-bench', 'src', 'main.rs')
  const stale = !fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs
  if (stale && process.env.BENCH_BUILD !== '0') {
    log(`building the native ceiling: cargo build --release --target ${triple} -p krafka-bench`)
    const r = spawnSync('cargo', ['build', '--release', '--target', triple, '-p', 'krafka-bench'], { cwd: root, stdio: ['ignore', 2, 2] })
    if (r.status !== 0) throw new Error('cargo build of crates/krafka-bench failed')
  }
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing (BENCH_BUILD=0 and not built)`)
  return bin
}

module.exports = { nativeBin }
