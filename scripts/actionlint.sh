#!/usr/bin/env bash
# Lints the GitHub Actions workflows (.github/workflows/*.yml) with actionlint.
# They cannot run here, so this is how CI checks them. actionlint is built
# once from the Go module proxy (pinned below) into
# ${XDG_CACHE_HOME:-~/.cache}/krafka/bin and reused afterwards. When
# the shellcheck binary is on PATH, actionlint also checks every `run:` script.
#
#   bash scripts/actionlint.sh [extra actionlint args]
#
# Environment: ACTIONLINT (use this binary instead), ACTIONLINT_VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${ACTIONLINT_VERSION:-v1.7.12}
bin_dir=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/krafka/bin
exe=${ACTIONLINT:-$bin_dir/actionlint-$version}

if [ ! -x "$exe" ]; then
  command -v go >/dev/null || { echo "actionlint.sh: Go is needed to build actionlint $version" >&2; exit 1; }
  echo "actionlint.sh: building actionlint $version from the Go module proxy into $bin_dir"
  mkdir -p "$bin_dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # -mod=mod: resolve from the module proxy, never from a vendor dir or go.work.
  GOFLAGS=-mod=mod GOWORK=off GOBIN="$tmp" go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
  mv "$tmp/actionlint" "$exe"
fi

if command -v shellcheck >/dev/null; then
  echo "actionlint.sh: $("$exe" -version | head -n1), with $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
else
  echo "actionlint.sh: $("$exe" -version | head -n1), shellcheck not found (run: scripts are not checked)"
fi
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
[ ${#files[@]} -gt 0 ] || { echo "actionlint.sh: no workflow under .github/workflows" >&2; exit 1; }
"$exe" -no-color "$@" "${files[@]}"
echo "actionlint.sh: ${#files[@]} workflow file(s) clean"
