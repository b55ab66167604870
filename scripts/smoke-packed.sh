#!/bin/sh
# Installs krafka as a user gets it, from packed tarballs, and smoke-tests it
# (scripts/smoke.js: load, features, GSSAPI config, mock-cluster round trip;
# then an ESM import). The release workflow runs it for every target on its
# own OS (Alpine for musl, Git Bash on Windows); POSIX sh on purpose.
#
#   sh scripts/smoke-packed.sh <platform> [path to the .node]
#     platform: a directory under npm/, e.g. linux-x64-gnu, win32-x64-msvc
#     .node:    defaults to ./krafka.<platform>.node (where `napi build` and
#               the workflow's artifact download put it)
#
# Needs node and npm only. Installs offline from an empty private cache, so the
# main package's optionalDependencies on the other platforms are skipped.
set -eu
platform=${1:?usage: smoke-packed.sh <platform> [path to the .node]}
cd "$(dirname "$0")/.."
repo=$(pwd)
addon=${2:-krafka.$platform.node}
version=$(node -p "require('./package.json').version")
[ -f "npm/$platform/package.json" ] || { echo "smoke-packed.sh: no npm/$platform/package.json" >&2; exit 1; }
[ -f "$addon" ] || { echo "smoke-packed.sh: $addon not found (build or download it first)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Git Bash: hand native Windows programs (node, npm) C:/... paths.
if command -v cygpath >/dev/null 2>&1; then
  work=$(cygpath -m "$work")
  repo=$(cygpath -m "$repo")
fi
mkdir "$work/pkg" "$work/app" "$work/cache"

# The platform package: npm/<platform>/ plus the addon, in a throwaway copy.
cp "npm/$platform/package.json" "npm/$platform/README.md" "$work/pkg/"
cp "$addon" "$work/pkg/krafka.$platform.node"
npm pack --ignore-scripts --pack-destination "$work" >/dev/null
(cd "$work/pkg" && npm pack --ignore-scripts --pack-destination "$work" >/dev/null)
ls -l "$work"/*.tgz

cd "$work/app"
printf '{ "name": "krafka-smoke", "version": "1.0.0", "private": true }\n' >package.json
start=$(date +%s)
npm install --offline --cache "$work/cache" --no-audit --no-fund --update-notifier=false \
  "$work/krafka-$version.tgz" "$work/krafka-$platform-$version.tgz"
echo "smoke-packed.sh: npm install from tarballs took $(($(date +%s) - start)) s"

node "$repo/scripts/smoke.js" "$work/app"
node --input-type=module -e "
import { Producer, Consumer, KafkaError, features } from 'krafka'
for (const [n, v] of Object.entries({ Producer, Consumer, KafkaError })) if (typeof v !== 'function') throw new Error(n + ' is not exported to ESM')
if (!features.includes('sasl_gssapi')) throw new Error('no sasl_gssapi: ' + features)
console.log('smoke-packed.sh: ESM import ok')
"
echo "smoke-packed.sh: krafka-$platform ok"
