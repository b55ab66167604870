#!/usr/bin/env bash
# `npm test`: build, bring up the real Kafka + KDC environment, run every test
# (Rust core unit tests, Node integration tests, strict type-check of the
# examples), and bring the environment down again. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "build the addon (napi build --platform --release)"
t0=$SECONDS
npm run build --silent
echo "build took $((SECONDS - t0)) s"

step "Rust core unit tests"
# Same target dir and triple as napi build, so the vendored native stack is reused.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo test --release --target "$host" -p krafka-core

step "build the native-ceiling benchmark binary (crates/krafka-bench, for the bench smoke test)"
cargo build --release --target "$host" -p krafka-bench

step "type-check the examples (tsc --strict)"
node scripts/extract-readme-examples.js
npx tsc -p examples/tsconfig.json

step "release build of the linux-x64-gnu addon for glibc 2.28 (zig; scripts/build-glibc228.sh)"
# What npm users get: the packed-tarball test (pack.spec.js) installs this one
# and asserts its glibc floor. KRAFKA_SKIP_RELEASE_BUILD=1 skips it locally.
if [ -z "${KRAFKA_SKIP_RELEASE_BUILD:-}" ] && [ "$host" = x86_64-unknown-linux-gnu ]; then
  t0=$SECONDS
  NICE= bash scripts/build-glibc228.sh dist/
  echo "release build took $((SECONDS - t0)) s"
  export KRAFKA_RELEASE_ADDON=$PWD/dist/krafka.linux-x64-gnu.node KRAFKA_MAX_GLIBC=2.28
fi

step "lint the GitHub Actions workflows (scripts/actionlint.sh)"
bash scripts/actionlint.sh

step "bring up Kafka + KDC (npm run env:up)"
keep=${KRAFKA_KEEP_ENV:-}
if [ -z "$keep" ]; then trap 'bash scripts/env-down.sh || true' EXIT; fi
bash scripts/env-up.sh

step "Node tests against the real broker and KDC"
node --test --test-reporter=spec __test__/*.spec.js
