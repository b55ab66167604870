#!/usr/bin/env bash
# Stop krafka's test environment (see scripts/env-up.sh): the Kafka broker
# (SIGTERM, up to 60 s for a clean shutdown, then SIGKILL) and the KDC.
# Harmless when nothing runs.
#
# By default test-env/ is kept (KDC database, keytabs, TLS certificates,
# Kafka data with its SCRAM credentials and ACLs, logs), so
# the next env-up.sh is a quick restart. KRAFKA_ENV_CLEAN=1 (or --clean)
# also deletes test-env/ entirely. The cached Kafka classpath and ~/.m2 are
# never touched.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_PREFIX=env-down
# shellcheck source=env-common.sh disable=SC2034
. "$SCRIPT_DIR/env-common.sh"

clean=${KRAFKA_ENV_CLEAN:-0}
for a in "$@"; do
  case $a in
    --clean) clean=1 ;;
    *) die "unknown argument $a (usage: env-down.sh [--clean])" ;;
  esac
done

[ -d "$ENV_DIR" ] || { log "nothing to stop ($ENV_DIR absent)"; exit 0; }

if command -v flock >/dev/null 2>&1 && [ -d "$ENV_DIR" ]; then
  exec 9>"$ENV_DIR/.lock"
  flock -w 300 9 || die "another env-up/env-down holds $ENV_DIR/.lock"
fi

stopped=0
pid=$(kafka_pid)
if [ -n "$pid" ]; then
  stop_pid "$pid" kafka 60
  stopped=1
fi
rm -f "$KAFKA_PID_FILE" "$RUN_DIR/kafka.fingerprint"

pid=$(kdc_pid)
if [ -n "$pid" ]; then
  stop_pid "$pid" krb5kdc 10
  stopped=1
fi
rm -f "$KDC_PID_FILE"
[ $stopped -eq 1 ] || log "nothing was running"

if [ "$clean" = 1 ]; then
  case $ENV_DIR in
    ""|/|"$HOME"|"$REPO_DIR") die "refusing to delete ENV_DIR=$ENV_DIR" ;;
  esac
  rm -rf "$ENV_DIR"
  log "deleted $ENV_DIR"
fi
