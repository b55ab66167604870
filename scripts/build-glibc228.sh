#!/usr/bin/env bash
# Build the linux-x64-gnu addon so that it needs no newer glibc than 2.28
# (RHEL 8 / AlmaLinux 8 / Debian 10), from any x86_64 Linux host, with zig as
# the C compiler and linker (zig ships glibc stubs + headers for old versions).
#
#   bash scripts/build-glibc228.sh [OUTPUT_DIR_OR_FILE]     (default: dist/)
#
# Writes OUTPUT_DIR/krafka.linux-x64-gnu.node (or exactly OUTPUT if it ends in
# .node). Touches neither ./target nor ./krafka.linux-x64-gnu.node: it builds
# in $CARGO_TARGET_DIR (default target/zig in the repo) and copies the result.
#
# Tools, installed into $KRAFKA_ZIG_CACHE (default ~/.cache/krafka-zig) when
# missing: zig from PyPI (`ziglang`, run as `python -m ziglang`) in a venv, and
# cargo-zigbuild from crates.io.
#
# Every C dependency is compiled by zig against glibc 2.28:
#   - openssl-src, zstd-sys, libz-sys: via the cc crate, which picks up the
#     CC_x86_64_unknown_linux_gnu wrapper that cargo-zigbuild sets;
#   - krb5-src, sasl2-sys (autotools) and librdkafka (mklove configure) do NOT
#     use the cc crate: they run ./configure with the plain $CC, so without the
#     CC export below they silently fall back to the host gcc and host glibc
#     headers (it still links, but e.g. krb5 then references res_nsearch, which
#     glibc < 2.34 does not export: an unversioned undefined symbol that fails
#     at dlopen on RHEL 8).
# Environment knobs: ZIGLANG_VERSION, CARGO_ZIGBUILD_VERSION, GLIBC_FLOOR,
# CARGO_TARGET_DIR, KRAFKA_ZIG_CACHE, NICE (default "nice -n 19").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/dist}
case $out in /*) ;; *) out=$PWD/$out ;; esac
glibc=${GLIBC_FLOOR:-2.28}
zig_version=${ZIGLANG_VERSION:-0.14.1}
zigbuild_version=${CARGO_ZIGBUILD_VERSION:-0.24.1}
cache=${KRAFKA_ZIG_CACHE:-$HOME/.cache/krafka-zig}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/zig}
nice_cmd=${NICE-nice -n 19}
rust_target=x86_64-unknown-linux-gnu
zig_target=x86_64-linux-gnu.$glibc

# --- tools -----------------------------------------------------------------
py=$cache/venv/bin/python
if ! "$py" -m ziglang version 2>/dev/null | grep -qx "$zig_version"; then
  python3 -m venv "$cache/venv"
  "$py" -m pip install -q "ziglang==$zig_version"
fi
zigbuild=$cache/cargo/bin/cargo-zigbuild
if ! "$zigbuild" --version 2>/dev/null | grep -q " $zigbuild_version\$"; then
  $nice_cmd cargo install --locked "cargo-zigbuild@$zigbuild_version" --root "$cache/cargo"
fi
rustup target add "$rust_target" >/dev/null 2>&1 || true

# Compiler wrappers for the configure-based builds (krb5, Cyrus SASL,
# librdkafka). `cargo-zigbuild zig cc` drops flags zig does not understand.
mkdir -p "$cache/bin"
for lang in cc c++; do
  w=$cache/bin/zig$lang-$glibc
  cat >"$w" <<EOF
#!/bin/sh
export CARGO_ZIGBUILD_ZIG_COMMAND='$py' CARGO_ZIGBUILD_ZIG_COMMAND_ARGS='-m ziglang'
# zig/clang refuses "--version" with a glibc-versioned triple; mklove's
# compiler probe runs "\$CC --version" and falls back to gcc when it fails.
case " \$* " in *" --version "*) exec '$py' -m ziglang $lang --version ;; esac
# ld.lld rejects version scripts naming undefined symbols (librdkafka.so's
# rd_ut_coverage_check; only the static librdkafka.a is used, but make builds both).
case " \$* " in *" -shared "*) set -- "\$@" -Wl,--undefined-version ;; esac
# -fno-sanitize=all: zig cc turns on trapping UBSan (ud1 -> SIGILL) in every
# unoptimised compile, and krb5/Cyrus SASL are configured with CFLAGS=-fPIC
# only (-O0); cargo-zigbuild's own wrappers pass the same flag.
exec '$zigbuild' zig $lang -- -fno-sanitize=all -target $zig_target "\$@"
EOF
  chmod +x "$w"
done
export PATH=$cache/venv/bin:$cache/cargo/bin:$PATH
export CC=$cache/bin/zigcc-$glibc CXX=$cache/bin/zigc++-$glibc
# Static archives are plain ELF: the host ar/ranlib are fine for configure.

# --- build -------------------------------------------------------------------
start=$(date +%s)
cd "$root"
$nice_cmd cargo zigbuild --release --locked -p krafka-node --target "$rust_target.$glibc"
so=$CARGO_TARGET_DIR/$rust_target/release/libkrafka_node.so

case $out in
  *.node) dest=$out ;;
  *) dest=$out/krafka.linux-x64-gnu.node ;;
esac
mkdir -p "$(dirname "$dest")"
cp "$so" "$dest"

# --- checks ------------------------------------------------------------------
floor=$(objdump -T "$dest" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1)
echo "built $dest in $(( $(date +%s) - start )) s, $(stat -c %s "$dest") bytes, needs $floor"
fail=0
if [ "$(printf '%s\n%s\n' "${floor#GLIBC_}" "$glibc" | sort -V | tail -n1)" != "$glibc" ]; then
  echo "ERROR: needs $floor > GLIBC_$glibc" >&2; fail=1
fi
# Unversioned undefined non-weak symbols other than N-API would be symbols
# the glibc stubs did not know (a host-compiled object slipped in).
bad=$(objdump -T "$dest" | awk '$2!="w" && /\*UND\*/ && / Base / {print $NF}' | grep -v '^napi_' || true)
if [ -n "$bad" ]; then echo "ERROR: unresolved unversioned imports: $bad" >&2; fail=1; fi
objdump -p "$dest" | awk '/NEEDED/ {print "  needs " $2}'
# ud1 = a trapping UBSan check from a C compile without -fno-sanitize=all.
if objdump -d "$dest" | grep -q '\bud1\b'; then echo "ERROR: UBSan traps (ud1) in $dest" >&2; fail=1; fi
nm -D --defined-only "$dest" | grep -qw conf_init || { echo "ERROR: conf_init not exported" >&2; fail=1; }
exit $fail
