# shellcheck shell=bash
# shellcheck disable=SC2034
# Shared settings and helpers for scripts/env-up.sh, scripts/env-down.sh and
# scripts/kafka-tool.sh. Sourced, never run. Expects SCRIPT_DIR to be set and
# `set -euo pipefail` to be in force.
#
# Everything the environment creates lives under <repo>/test-env/ (git-ignored)
# except the Maven local repository (~/.m2 or $KRAFKA_M2) and the resolved
# Kafka classpath (${XDG_CACHE_HOME:-~/.cache}/krafka/).
#
# Environment overrides (defaults in brackets):
#   KRAFKA_REALM [KRAFKA.TEST]          KRAFKA_KDC_PORT [38088]
#   KRAFKA_PLAINTEXT_PORT [39092]       KRAFKA_GSSAPI_PORT [39093]
#   KRAFKA_CONTROLLER_PORT [39094]      KAFKA_VERSION [4.3.1]
#   KRAFKA_SASL_SSL_PORT [39095]        KRAFKA_SCRAM_PORT [39096]
#   KRAFKA_MTLS_PORT [39097]           KRAFKA_PLAIN_PORT [39098]
#   KRAFKA_PLAIN_SSL_PORT [39099]       KRAFKA_OAUTH_PORT [39100]
#   KRAFKA_M2 [Maven default ~/.m2/repository]
#   KRAFKA_ENV_DIR [<repo>/test-env]

REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
ENV_DIR=${KRAFKA_ENV_DIR:-$REPO_DIR/test-env}

REALM=${KRAFKA_REALM:-KRAFKA.TEST}
KDC_PORT=${KRAFKA_KDC_PORT:-38088}
PLAINTEXT_PORT=${KRAFKA_PLAINTEXT_PORT:-39092}
GSSAPI_PORT=${KRAFKA_GSSAPI_PORT:-39093}
CONTROLLER_PORT=${KRAFKA_CONTROLLER_PORT:-39094}
SASL_SSL_PORT=${KRAFKA_SASL_SSL_PORT:-39095}
SCRAM_PORT=${KRAFKA_SCRAM_PORT:-39096}
MTLS_PORT=${KRAFKA_MTLS_PORT:-39097}
PLAIN_PORT=${KRAFKA_PLAIN_PORT:-39098}
PLAIN_SSL_PORT=${KRAFKA_PLAIN_SSL_PORT:-39099}
OAUTH_PORT=${KRAFKA_OAUTH_PORT:-39100}
KAFKA_VERSION=${KAFKA_VERSION:-4.3.1}
SERVICE_NAME=kafka
# The broker's service principal host must equal the host it advertises on
# the GSSAPI listener (clients build kafka/<advertised host>).
GSSAPI_HOST=localhost
# Host the TLS listeners advertise; the broker certificate's SAN covers it
# (and 127.0.0.1), so clients can verify the hostname.
TLS_HOST=localhost
# SCRAM user created on the broker (its password lives in env.json).
SCRAM_USER=scramuser
# SASL/PLAIN user of the plain and plain_ssl listeners (password in env.json).
PLAIN_USER=plainuser
# Subject of the mTLS client certificate; with the default
# ssl.principal.mapping.rules the broker sees User:CN=krafka-mtls-client.
MTLS_CLIENT_CN=krafka-mtls-client

KDC_DIR=$ENV_DIR/kdc
KDC_CONF=$KDC_DIR/kdc.conf
KRB5_CONF=$ENV_DIR/krb5.conf
KEYTAB_DIR=$ENV_DIR/keytabs
LOG_DIR=$ENV_DIR/logs
RUN_DIR=$ENV_DIR/run
KAFKA_CONF_DIR=$ENV_DIR/kafka
KAFKA_DATA_DIR=$ENV_DIR/kafka-data
TLS_DIR=$ENV_DIR/tls
SERVER_PROPERTIES=$KAFKA_CONF_DIR/server.properties
ENV_JSON=$ENV_DIR/env.json
KDC_PID_FILE=$RUN_DIR/kdc.pid
KAFKA_PID_FILE=$RUN_DIR/kafka.pid
KAFKA_POM=$SCRIPT_DIR/kafka/pom.xml
# Marker on the broker's java command line, so env-down.sh can find *this*
# environment's broker even without its pid file (and never another java).
KAFKA_MARKER="-Dkrafka.env=$ENV_DIR"

CACHE_DIR=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/krafka

LOG_PREFIX=${LOG_PREFIX:-env}
log() { printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$LOG_PREFIX" "$*" >&2; exit 1; }

# Seconds since the epoch with milliseconds, for timing.
now_ms() { date +%s%3N; }

# find_bin NAME: path of NAME on PATH or in the sbin directories (the KDC
# tools live in /usr/sbin, which a non-login PATH may lack); empty if absent.
find_bin() {
  local p
  p=$(command -v "$1" 2>/dev/null || true)
  if [ -z "$p" ]; then
    for d in /usr/sbin /sbin /usr/local/sbin /usr/bin; do
      [ -x "$d/$1" ] && { p=$d/$1; break; }
    done
  fi
  printf '%s' "$p"
}

# java_bin: the java to use ($JAVA_HOME/bin/java if set, else PATH).
java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    printf '%s' "$JAVA_HOME/bin/java"
  else
    find_bin java
  fi
}

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# pid_state PID: prints the /proc state letter (R, S, Z, ...) or nothing.
pid_state() {
  local stat
  read -r stat 2>/dev/null < "/proc/$1/stat" || return 0
  stat=${stat##*) }
  printf '%s' "${stat%% *}"
}

# pid_live PID: running and not a zombie.
pid_live() {
  local st
  [ -n "$1" ] || return 1
  st=$(pid_state "$1")
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# proc_has PID FILE NEEDLE: /proc/PID/FILE (cmdline or environ, NUL
# separated) contains the exact entry NEEDLE.
proc_has() {
  local e
  while IFS= read -r -d '' e; do
    [ "$e" = "$3" ] && return 0
  done 2>/dev/null < "/proc/$1/$2" || true
  return 1
}

# kdc_pid / kafka_pid: the pid of this environment's running KDC / broker
# (from the pid file, checked against /proc; falls back to a /proc scan for
# the env-specific marker), or nothing.
kdc_pid() {
  local pid p c
  pid=$(cat "$KDC_PID_FILE" 2>/dev/null || true)
  if pid_live "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = krb5kdc ]; then
    printf '%s' "$pid"; return 0
  fi
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    read -r c 2>/dev/null < "/proc/$p/comm" || continue
    [ "$c" = krb5kdc ] || continue
    if pid_live "$p" && proc_has "$p" environ "KRB5_KDC_PROFILE=$KDC_CONF"; then
      printf '%s' "$p"; return 0
    fi
  done
  return 0
}

kafka_pid() {
  local pid p c
  pid=$(cat "$KAFKA_PID_FILE" 2>/dev/null || true)
  if pid_live "$pid" && proc_has "$pid" cmdline "$KAFKA_MARKER"; then
    printf '%s' "$pid"; return 0
  fi
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    read -r c 2>/dev/null < "/proc/$p/comm" || continue
    [ "$c" = java ] || continue
    if pid_live "$p" && proc_has "$p" cmdline "$KAFKA_MARKER"; then
      printf '%s' "$p"; return 0
    fi
  done
  return 0
}

# stop_pid PID NAME TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S, then SIGKILL.
stop_pid() {
  local pid=$1 name=$2 timeout=$3 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    pid_live "$pid" || { log "stopped $name (pid $pid)"; return 0; }
    sleep 0.1
  done
  log "$name (pid $pid) did not stop within ${timeout}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_live "$pid" || return 0
    sleep 0.1
  done
  die "could not kill $name (pid $pid)"
}

# classpath_file: where the resolved Kafka classpath is cached. Keyed by the
# pom, the Kafka version and the Maven repository (the file holds absolute
# jar paths inside it), so a changed pom or version resolves anew.
classpath_file() {
  local key
  key=$( { cat "$KAFKA_POM"; printf '\n%s\n%s\n' "$KAFKA_VERSION" "${KRAFKA_M2:-default-m2}"; } \
    | sha256sum | cut -c1-16)
  printf '%s' "$CACHE_DIR/kafka-$KAFKA_VERSION-$key.classpath"
}

# kafka_tool MAIN_CLASS ARGS...: exec a Kafka command-line tool (or any class
# on the broker's classpath) with this environment's krb5.conf, quietly.
# Replaces the calling shell: use scripts/kafka-tool.sh from other scripts.
kafka_tool() {
  local cpf java
  cpf=$(classpath_file)
  [ -s "$cpf" ] || die "no Kafka classpath at $cpf: run scripts/env-up.sh first"
  java=$(java_bin)
  [ -n "$java" ] || die "java not found"
  # shellcheck disable=SC2086 # KRAFKA_TOOL_JVM_OPTS is a word list
  exec "$java" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Djava.awt.headless=true \
    -Djava.security.krb5.conf="$KRB5_CONF" \
    -Dlog4j2.configurationFile="$SCRIPT_DIR/kafka/log4j2-tools.xml" \
    ${KRAFKA_TOOL_JVM_OPTS:-} \
    -cp "$(cat "$cpf")" "$@"
}
