#!/bin/sh
# Release build of the addon for one Linux target, natively, inside the
# container the release workflow picks (.github/workflows/release.yml):
#   *-linux-gnu   quay.io/pypa/manylinux_2_28_<arch> (AlmaLinux 8, glibc 2.28),
#                 so the .node needs no newer glibc than RHEL 8 has;
#   *-linux-musl  rust:1-alpine (musl).
# The vendored native stack (OpenSSL, MIT krb5, Cyrus SASL, librdkafka via its
# mklove configure) is compiled by the container's own gcc against its own libc.
# Then runs the Rust core's unit tests against the same build.
#
#   sh scripts/release-build-linux.sh <rust target triple>
#
# Runs as root in the container; installs what the image lacks: a C toolchain,
# perl and make (openssl/krb5/cyrus-sasl), bash (librdkafka's configure), Node
# (on manylinux the workflow mounts the runner's Node at /opt/node) and Rust.
# POSIX sh on purpose: Alpine has no bash until this script installs it.
set -eu
target=${1:?usage: release-build-linux.sh <rust target triple>}
cd "$(dirname "$0")/.."

if command -v apk >/dev/null 2>&1; then
  apk add --no-cache bash build-base linux-headers perl make nodejs npm
elif command -v dnf >/dev/null 2>&1; then
  # manylinux_2_28 brings gcc-toolset; `perl` is the full Perl (IPC::Cmd etc. for OpenSSL's Configure).
  dnf install -y -q perl make
  command -v cc >/dev/null 2>&1 || { CC=gcc; export CC; }
  # Node: the runner's own (official builds need glibc 2.28, as this image has).
  if [ -d /opt/node/bin ]; then PATH=/opt/node/bin:$PATH; fi
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ] || curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --profile minimal --default-toolchain stable
  PATH=${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
fi
export PATH
if command -v rustup >/dev/null 2>&1; then rustup target add "$target"; fi

echo "release-build-linux.sh: $target with $(${CC:-cc} --version | head -n1), $(rustc --version), node $(node --version)"
ldd --version 2>&1 | head -n1 || true

npm install --no-audit --no-fund
npm run build -- --target "$target"
# Same target dir and triple as napi build: the vendored stack is reused.
cargo test --release --target "$target" -p krafka-core
ls -l krafka.*.node
