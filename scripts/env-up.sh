#!/usr/bin/env bash
# Bring up krafka's real test environment, loopback only, no Docker:
#   * an MIT Kerberos KDC (Debian packages) for realm $KRAFKA_REALM
#     [KRAFKA.TEST] on 127.0.0.1:$KRAFKA_KDC_PORT [38088], with principals
#     and keytabs for the broker and the test clients;
#   * a throwaway TLS CA with a broker certificate (CN/SAN localhost, SAN
#     IP 127.0.0.1) and an mTLS client certificate, PEM, in test-env/tls/;
#   * a single-node Apache Kafka (KRaft, combined broker+controller) from
#     Maven Central, with these listeners (ports: scripts/env-common.sh):
#       plaintext  127.0.0.1:39092  PLAINTEXT (User:ANONYMOUS)
#       gssapi     localhost:39093  SASL_PLAINTEXT, GSSAPI
#       sasl_ssl   localhost:39095  SASL_SSL, GSSAPI
#       scram      127.0.0.1:39096  SASL_PLAINTEXT, SCRAM-SHA-256/512, user
#                                   scramuser (password in env.json)
#       mtls       localhost:39097  SSL, client certificate required
#                                   (User:CN=krafka-mtls-client)
#       plain      127.0.0.1:39098  SASL_PLAINTEXT, PLAIN, user plainuser
#                                   (password in env.json)
#       plain_ssl  localhost:39099  SASL_SSL, PLAIN, user plainuser
#       oauth      127.0.0.1:39100  SASL_PLAINTEXT, OAUTHBEARER with Kafka's
#                                   *unsecured* validator (tests only): any
#                                   unsigned JWT ({"alg":"none"}, claims sub
#                                   and exp) is accepted, as User:<sub>
#     and the StandardAuthorizer (ACLs; a resource without ACLs is open to
#     all; User:ANONYMOUS and User:kafka are super users), denials logged to
#     test-env/logs/kafka-authorizer.log;
# then writes test-env/env.json with the connection facts, and Java client
# property files for each listener to test-env/kafka/client-*.properties.
#
# Idempotent: on a running environment it re-verifies readiness, rewrites
# env.json and exits 0 (a service whose generated config changed is
# restarted). Stop with scripts/env-down.sh.
#
# State lifecycle (deliberate choice):
#   * KDC database, principals and keytabs persist across down/up (a keytab
#     handed to a test stays valid); KRAFKA_ENV_CLEAN=1 scripts/env-down.sh
#     wipes all of test-env/.
#   * Kafka data (test-env/kafka-data) also persists across down/up, so a
#     restart skips formatting; KRAFKA_KAFKA_FRESH=1 wipes and reformats it
#     when the broker is (re)started by this run. Tests should use their own
#     unique topic/group names rather than rely on an empty broker.
#
# Other knobs: KRAFKA_ENV_TIMEOUT [120] seconds to wait for the broker;
# KRAFKA_KAFKA_HEAP [-Xmx768m -Xms256m]; KRAFKA_KAFKA_JVM_OPTS (extra JVM
# flags); KRAFKA_KAFKA_SECURITY_DEBUG=1 (SASL/Kerberos debug logging in the
# broker log, plus -Dsun.security.krb5.debug=true in kafka.out);
# KRAFKA_KAFKA_AUTHORIZER_LOG=DEBUG (also log *allowed* operations, with
# the principal, in kafka-authorizer.log; verbose: every request);
# KRAFKA_ENV_VERIFY=full|basic [full on a broker start, basic otherwise]:
# basic checks every listener's port (and the TLS handshake and certificate
# of the TLS listeners, with openssl); full also lists topics with the Java
# tools over the gssapi, sasl_ssl, scram, mtls, plain, plain_ssl and oauth
# listeners.
# Ports and versions: see scripts/env-common.sh.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOG_PREFIX=env-up
# shellcheck source=env-common.sh disable=SC2034
. "$SCRIPT_DIR/env-common.sh"

T0=$(now_ms)
TIMEOUT=${KRAFKA_ENV_TIMEOUT:-120}

# ---------------------------------------------------------------- packages --
pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

ensure_packages() {
  local need=() p
  if command -v dpkg-query >/dev/null 2>&1; then
    # faketime: the clock-skew diagnostics test (tests only)
    for p in krb5-kdc krb5-admin-server krb5-user faketime; do
      pkg_installed "$p" || need+=("$p")
    done
  else
    [ -n "$(find_bin krb5kdc)" ] || need+=(krb5-kdc)
    [ -n "$(find_bin kadmin.local)" ] || need+=(krb5-admin-server)
    [ -n "$(find_bin kinit)" ] || need+=(krb5-user)
  fi
  [ -n "$(java_bin)" ] || need+=(openjdk-17-jre-headless)
  [ -n "$(find_bin openssl)" ] || need+=(openssl)
  [ -n "$(find_bin mvn)" ] || need+=(maven)
  [ ${#need[@]} -eq 0 ] && return 0

  command -v apt-get >/dev/null 2>&1 || die "missing ${need[*]} and no apt-get to install them"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${need[*]}: run as root or install them"
    sudo=(sudo)
  fi
  log "installing ${need[*]} (apt)"
  # Keep the packages' postinst from starting system-wide krb5kdc/kadmind
  # daemons (we run our own KDC): a temporary policy-rc.d, only if the
  # machine has none.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=1
  fi
  local rc=0 out
  out=$(mktemp)
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends "${need[@]}"
  } >"$out" 2>&1 </dev/null || rc=$?
  [ $added_policy -eq 1 ] && "${sudo[@]}" rm -f "$policy"
  if [ $rc -ne 0 ]; then
    tail -n 30 "$out" >&2
    rm -f "$out"
    die "apt-get install ${need[*]} failed"
  fi
  rm -f "$out"
  hash -r
}

ensure_packages

KRB5KDC=$(find_bin krb5kdc)
KDB5_UTIL=$(find_bin kdb5_util)
KADMIN_LOCAL=$(find_bin kadmin.local)
KINIT=$(find_bin kinit)
JAVA=$(java_bin)
MVN=$(find_bin mvn)
OPENSSL=$(find_bin openssl)
for b in KRB5KDC KDB5_UTIL KADMIN_LOCAL KINIT JAVA MVN OPENSSL; do
  [ -n "${!b}" ] || die "$b not found after install"
done
JAVA_HOME_REAL=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$JAVA")")")}
java_major=$("$JAVA" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
[ "${java_major:-0}" -ge 17 ] || die "Kafka $KAFKA_VERSION needs Java 17+, $JAVA is ${java_major:-unknown}"

mkdir -p "$ENV_DIR" "$KDC_DIR" "$KEYTAB_DIR" "$LOG_DIR" "$RUN_DIR" "$KAFKA_CONF_DIR" "$CACHE_DIR" "$TLS_DIR"
chmod 700 "$KDC_DIR" "$KEYTAB_DIR"

# One env-up/env-down at a time. (fd 9 is closed in the daemons started
# below, or they would hold the lock forever.)
if command -v flock >/dev/null 2>&1; then
  exec 9>"$ENV_DIR/.lock"
  flock -w 300 9 || die "another env-up/env-down holds $ENV_DIR/.lock"
fi

# write_if_changed FILE CONTENT: returns 0 if the file was (re)written.
write_if_changed() {
  if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then return 1; fi
  printf '%s\n' "$2" > "$1.tmp"
  mv "$1.tmp" "$1"
  return 0
}

json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# write_secret_if_changed FILE CONTENT: the same, mode 600.
write_secret_if_changed() {
  if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then chmod 600 "$1"; return 1; fi
  (umask 077; printf '%s\n' "$2" > "$1.tmp")
  mv "$1.tmp" "$1"
  return 0
}

# json_field OBJECT FIELD: a string field of a one-line object in the previous
# env.json (how passwords survive re-runs: env.json is their only home).
json_field() {
  [ -f "$ENV_JSON" ] || return 0
  sed -n "s/.*\"$1\": *{.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$ENV_JSON" | head -n1
}

# --------------------------------------------------------------- Kerberos --
export KRB5_CONFIG=$KRB5_CONF
export KRB5_KDC_PROFILE=$KDC_CONF

krb5_conf_text="# Generated by scripts/env-up.sh: krafka test realm, loopback only.
# Use with KRB5_CONFIG=$KRB5_CONF (MIT) or
# -Djava.security.krb5.conf=$KRB5_CONF (Java).
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    ticket_lifetime = 10h
    renew_lifetime = 7d
    forwardable = true

[realms]
    $REALM = {
        kdc = 127.0.0.1:$KDC_PORT
    }

[domain_realm]
    localhost = $REALM
    .localhost = $REALM"

kdc_conf_text="# Generated by scripts/env-up.sh: the krafka test KDC (krb5kdc -n).
[kdcdefaults]
    kdc_listen = 127.0.0.1:$KDC_PORT
    kdc_tcp_listen = 127.0.0.1:$KDC_PORT
    kdc_ports = $KDC_PORT
    kdc_tcp_ports = $KDC_PORT

[realms]
    $REALM = {
        database_name = $KDC_DIR/principal
        key_stash_file = $KDC_DIR/stash
        acl_file = $KDC_DIR/kadm5.acl
        # Realm-wide ceiling; principal 'shortlived' has its own 90 s max
        # (a ticket's life is the minimum of realm, client and krbtgt limits).
        max_life = 10h 0m 0s
        max_renewable_life = 7d 0h 0m 0s
        master_key_type = aes256-cts-hmac-sha1-96
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }

[logging]
    kdc = FILE:$LOG_DIR/kdc.log
    admin_server = FILE:$LOG_DIR/kadmin.log
    default = FILE:$LOG_DIR/kdc.log"

krb5_changed=0
write_if_changed "$KRB5_CONF" "$krb5_conf_text" && krb5_changed=1
write_if_changed "$KDC_CONF" "$kdc_conf_text" && krb5_changed=1
[ -f "$KDC_DIR/kadm5.acl" ] || : > "$KDC_DIR/kadm5.acl"

# The database: created once, kept until KRAFKA_ENV_CLEAN=1 env-down.sh.
if [ -f "$KDC_DIR/realm" ] && [ "$(cat "$KDC_DIR/realm")" != "$REALM" ]; then
  die "test-env KDC holds realm $(cat "$KDC_DIR/realm"), not $REALM: run KRAFKA_ENV_CLEAN=1 scripts/env-down.sh first"
fi
if [ ! -f "$KDC_DIR/principal" ] || [ ! -f "$KDC_DIR/stash" ]; then
  [ -z "$(kdc_pid)" ] || die "a KDC runs on an incomplete database: run KRAFKA_ENV_CLEAN=1 scripts/env-down.sh"
  log "creating KDC database for $REALM"
  rm -f "$KDC_DIR"/principal* "$KDC_DIR/stash" "$KEYTAB_DIR"/*.keytab
  "$KDB5_UTIL" create -s -r "$REALM" -P "$(random_hex 24)" >>"$LOG_DIR/kadmin.log" 2>&1 </dev/null \
    || { tail -n 20 "$LOG_DIR/kadmin.log" >&2; die "kdb5_util create failed"; }
  printf '%s\n' "$REALM" > "$KDC_DIR/realm"
fi

kadmin() { # commands on stdin, output to the kadmin log
  "$KADMIN_LOCAL" -r "$REALM" >>"$LOG_DIR/kadmin.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/kadmin.log" >&2; die "kadmin.local failed"; }
}
kadmin_secret() { # same, but kadmin.local echoes its commands: log nothing
  "$KADMIN_LOCAL" -r "$REALM" >/dev/null 2>&1 || die "kadmin.local (pwuser) failed"
}

existing=$("$KADMIN_LOCAL" -r "$REALM" -q listprincs 2>>"$LOG_DIR/kadmin.log" </dev/null)
has_princ() { grep -qxF "$1@$REALM" <<<"$existing"; }

# Existing pwuser password, from the previous env.json (its only home).
PW=$(json_field pwuser password)

# name keytab-file extra-addprinc-options
KEYTAB_PRINCS=(
  "kafka/$GSSAPI_HOST|kafka.keytab|"
  "krafka-client|client.keytab|"
  "alice|alice.keytab|"
  "bob|bob.keytab|"
  "shortlived|shortlived.keytab|-maxlife \"90 seconds\" -maxrenewlife \"0 seconds\""
)
cmds=""
for entry in "${KEYTAB_PRINCS[@]}"; do
  IFS='|' read -r name kt opts <<<"$entry"
  if ! has_princ "$name"; then
    cmds+="addprinc -randkey $opts $name@$REALM"$'\n'
  fi
  if [ ! -s "$KEYTAB_DIR/$kt" ]; then
    cmds+="ktadd -k $KEYTAB_DIR/$kt -norandkey $name@$REALM"$'\n'
  fi
done
# 'shortlived': 90 s tickets, not renewable, so a test really crosses
# expiry (and must re-login from the keytab). Re-applied on every run.
cmds+="modprinc -maxlife \"90 seconds\" -maxrenewlife \"0 seconds\" shortlived@$REALM"$'\n'
kadmin <<<"$cmds"
# The password goes through stdin (not argv) and is never logged.
if ! has_princ pwuser; then
  PW=${PW:-$(random_hex 12)}
  kadmin_secret <<<"addprinc -pw $PW pwuser@$REALM"
elif [ -z "$PW" ]; then
  PW=$(random_hex 12)
  kadmin_secret <<<"cpw -pw $PW pwuser@$REALM"
fi
chmod 600 "$KEYTAB_DIR"/*.keytab

# Start the KDC (or keep the running one).
kdc_state=running
pid=$(kdc_pid)
if [ -n "$pid" ] && [ $krb5_changed -eq 1 ]; then
  log "KDC config changed: restarting the KDC"
  stop_pid "$pid" krb5kdc 10
  pid=""
fi
if [ -z "$pid" ]; then
  port_open 127.0.0.1 "$KDC_PORT" && die "127.0.0.1:$KDC_PORT is taken by another process (set KRAFKA_KDC_PORT)"
  {
    printf '\n=== %s krb5kdc start\n' "$(date -Is)"
  } >>"$LOG_DIR/kdc.out"
  # sh writes its own pid, then execs the daemon: the pid file is exact.
  # shellcheck disable=SC2016
  setsid sh -c 'echo $$ > "$0"; exec "$@"' "$KDC_PID_FILE" \
    "$KRB5KDC" -n -r "$REALM" </dev/null >>"$LOG_DIR/kdc.out" 2>&1 9>&- &
  kdc_state=started
  for ((i = 0; i < 100; i++)); do
    port_open 127.0.0.1 "$KDC_PORT" && break
    pid=$(cat "$KDC_PID_FILE" 2>/dev/null || true)
    if [ $i -gt 5 ] && ! pid_live "$pid"; then
      tail -n 20 "$LOG_DIR/kdc.out" "$LOG_DIR/kdc.log" >&2 || true
      die "krb5kdc exited"
    fi
    sleep 0.1
  done
  port_open 127.0.0.1 "$KDC_PORT" || die "KDC not listening on 127.0.0.1:$KDC_PORT after 10 s"
  pid=$(kdc_pid)
fi

# Prove the KDC issues tickets (keytab and password), into throwaway caches.
ccdir=$(mktemp -d)
trap 'rm -rf "$ccdir"' EXIT
for entry in "${KEYTAB_PRINCS[@]}"; do
  IFS='|' read -r name kt opts <<<"$entry"
  KRB5CCNAME=FILE:$ccdir/kt "$KINIT" -kt "$KEYTAB_DIR/$kt" "$name@$REALM" </dev/null >"$ccdir/out" 2>&1 \
    || { cat "$ccdir/out" >&2; die "kinit -kt $KEYTAB_DIR/$kt $name@$REALM failed"; }
done
if ! printf '%s\n' "$PW" | KRB5CCNAME=FILE:$ccdir/pw "$KINIT" "pwuser@$REALM" >"$ccdir/out" 2>&1; then
  # env.json lost or edited: reset the password.
  PW=$(random_hex 12)
  kadmin_secret <<<"cpw -pw $PW pwuser@$REALM"
  printf '%s\n' "$PW" | KRB5CCNAME=FILE:$ccdir/pw "$KINIT" "pwuser@$REALM" >"$ccdir/out" 2>&1 \
    || { cat "$ccdir/out" >&2; die "kinit pwuser failed"; }
fi
log "KDC $kdc_state (pid $pid) on 127.0.0.1:$KDC_PORT, realm $REALM"

# ------------------------------------------------------- Kafka classpath --
CP_FILE=$(classpath_file)
cp_valid() {
  local jar
  [ -s "$CP_FILE" ] || return 1
  while IFS= read -r -d ':' jar; do
    [ -f "$jar" ] || return 1
  done < <(printf '%s:' "$(cat "$CP_FILE")")
}
if ! cp_valid; then
  log "resolving Kafka $KAFKA_VERSION with Maven (once; cached in $CACHE_DIR)"
  mvn_args=(-q -B -f "$KAFKA_POM" "-Dkafka.version=$KAFKA_VERSION"
    dependency:build-classpath -Dmdep.includeScope=runtime "-Dmdep.outputFile=$CP_FILE.tmp")
  [ -n "${KRAFKA_M2:-}" ] && mvn_args=("-Dmaven.repo.local=$KRAFKA_M2" "${mvn_args[@]}")
  "$MVN" "${mvn_args[@]}" >"$LOG_DIR/mvn.log" 2>&1 </dev/null \
    || { tail -n 30 "$LOG_DIR/mvn.log" >&2; die "mvn dependency:build-classpath failed"; }
  mv "$CP_FILE.tmp" "$CP_FILE"
  cp_valid || die "resolved classpath $CP_FILE names missing jars"
fi
grep -q "kafka_2.13-$KAFKA_VERSION.jar" "$CP_FILE" || die "$CP_FILE lacks kafka_2.13-$KAFKA_VERSION.jar"

# -------------------------------------------------------------------- TLS --
# A throwaway CA and two leaf certificates, PEM, in test-env/tls/:
#   ca.pem ca-key.pem          the CA (clients trust ca.pem)
#   broker.pem broker-key.pem  server certificate CN=localhost, SAN DNS:localhost,
#                              IP:127.0.0.1, IP:::1 / its unencrypted PKCS#8 key
#   client.pem client-key.pem  mTLS client certificate CN=krafka-mtls-client / key
#   client-key-encrypted.pem   the client key encrypted with key.password
#   broker-keystore.pem        encrypted key + certificate chain, one file each,
#   client-keystore.pem        for Java's file-based PEM keystore (Kafka insists
#                              on ssl.key.password for those: encrypted keys only)
#   key.password               the password of the encrypted keys
# Made once and kept; remade (and the broker restarted) when a file is missing,
# the spec below changes, or a certificate expires within 30 days.
tls_spec="v1 rsa:2048 ca='krafka test CA' server=$TLS_HOST,127.0.0.1,::1 client=$MTLS_CLIENT_CN"
TLS_FILES=(ca.pem ca-key.pem broker.pem broker-key.pem broker-keystore.pem
  client.pem client-key.pem client-key-encrypted.pem client-keystore.pem key.password)
tls_current() {
  local f
  [ "$(cat "$TLS_DIR/spec" 2>/dev/null)" = "$tls_spec" ] || return 1
  for f in "${TLS_FILES[@]}"; do [ -s "$TLS_DIR/$f" ] || return 1; done
  for f in ca.pem broker.pem client.pem; do
    "$OPENSSL" x509 -checkend $((30 * 86400)) -noout -in "$TLS_DIR/$f" >/dev/null 2>&1 || return 1
  done
}
make_tls() {
  local g f
  g=$(mktemp -d "$TLS_DIR/.gen.XXXXXX")
  cat > "$g/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$TLS_HOST, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  ossl() {
    "$OPENSSL" "$@" >>"$LOG_DIR/tls.log" 2>&1 </dev/null \
      || { tail -n 20 "$LOG_DIR/tls.log" >&2; die "openssl $1 failed"; }
  }
  newkey() { ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$g/$1"; }
  sign() { # name subject extensions days
    ossl req -new -config "$g/openssl.cnf" -key "$g/$1-key.pem" -subj "$2" -out "$g/$1.csr"
    ossl x509 -req -in "$g/$1.csr" -CA "$g/ca.pem" -CAkey "$g/ca-key.pem" \
      -set_serial "0x$(random_hex 16)" -days "$4" -sha256 \
      -extfile "$g/openssl.cnf" -extensions "$3" -out "$g/$1.pem"
  }
  newkey ca-key.pem
  ossl req -new -x509 -config "$g/openssl.cnf" -extensions ca_ext -key "$g/ca-key.pem" \
    -subj "/CN=krafka test CA" -days 3650 -sha256 -out "$g/ca.pem"
  newkey broker-key.pem
  sign broker "/CN=$TLS_HOST" server_ext 825
  newkey client-key.pem
  sign client "/CN=$MTLS_CLIENT_CN" client_ext 825
  random_hex 16 > "$g/key.password"
  # Java (17) cannot read openssl 3's default PBES2/AES encryption of PKCS#8
  # keys ("PBES2 SecretKeyFactory not available"); PBE-SHA1-3DES it can.
  for f in broker client; do
    ossl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in "$g/$f-key.pem" \
      -passout "file:$g/key.password" -out "$g/$f-key-encrypted.pem"
    cat "$g/$f-key-encrypted.pem" "$g/$f.pem" "$g/ca.pem" > "$g/$f-keystore.pem"
  done
  ossl verify -CAfile "$g/ca.pem" "$g/broker.pem" "$g/client.pem"
  chmod 600 "$g"/*key*.pem "$g/key.password"
  for f in "${TLS_FILES[@]}"; do mv -f "$g/$f" "$TLS_DIR/$f"; done
  printf '%s\n' "$tls_spec" > "$TLS_DIR/spec"
  rm -rf "$g"
}
rm -rf "$TLS_DIR"/.gen.* 2>/dev/null || true
if ! tls_current; then
  log "generating the test CA and TLS certificates in $TLS_DIR"
  make_tls
fi
TLS_KEY_PASSWORD=$(cat "$TLS_DIR/key.password")

# --------------------------------------------------------------- Kafka -----
# Listeners, built in one place. Each:
#   NAME|PROTOCOL|BIND_HOST|ADVERTISED_HOST|PORT|ENV_KEY
# ENV_KEY names it under "bootstrap" in env.json (none: not for clients).
# To add one: append an entry here and its per-listener settings in
# listener_config below. Listener names double as the
# listener.name.<lowercase name>. config prefix.
LISTENERS=(
  "PLAINTEXT|PLAINTEXT|127.0.0.1|127.0.0.1|$PLAINTEXT_PORT|plaintext"
  "SASL_PLAINTEXT|SASL_PLAINTEXT|127.0.0.1|$GSSAPI_HOST|$GSSAPI_PORT|gssapi"
  "SASL_SSL|SASL_SSL|127.0.0.1|$GSSAPI_HOST|$SASL_SSL_PORT|sasl_ssl"
  "SCRAM|SASL_PLAINTEXT|127.0.0.1|127.0.0.1|$SCRAM_PORT|scram"
  "MTLS|SSL|127.0.0.1|$TLS_HOST|$MTLS_PORT|mtls"
  "PLAIN|SASL_PLAINTEXT|127.0.0.1|127.0.0.1|$PLAIN_PORT|plain"
  "PLAIN_SSL|SASL_SSL|127.0.0.1|$TLS_HOST|$PLAIN_SSL_PORT|plain_ssl"
  "OAUTH|SASL_PLAINTEXT|127.0.0.1|127.0.0.1|$OAUTH_PORT|oauth"
  "CONTROLLER|PLAINTEXT|127.0.0.1|127.0.0.1|$CONTROLLER_PORT|"
)

broker_gssapi_jaas="com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\"$KEYTAB_DIR/kafka.keytab\" principal=\"$SERVICE_NAME/$GSSAPI_HOST@$REALM\";"
# SASL/PLAIN: the broker only checks clients against its user_<name>
# options; it needs no username/password of its own (those are only for a
# broker that logs in to another broker, i.e. an inter-broker listener,
# and the inter-broker listener here is PLAINTEXT). The password's only
# home is env.json (kept across runs).
PLAIN_PW=$(json_field plain password)
[ -n "$PLAIN_PW" ] || PLAIN_PW=$(random_hex 12)
broker_plain_jaas="org.apache.kafka.common.security.plain.PlainLoginModule required user_$PLAIN_USER=\"$PLAIN_PW\";"
# OAUTHBEARER, *unsecured* (tests only): Kafka's built-in
# OAuthBearerUnsecuredValidatorCallbackHandler (also the default server
# callback handler for OAUTHBEARER; named explicitly so a changed default
# cannot silently swap it) accepts any unsigned JWS: header {"alg":"none"},
# claims "sub" (string; the principal: User:<sub>) and "exp" (required,
# seconds since the epoch, must be in the future), "iat" optional (if present
# not in the future and before exp); no scope is required; clock skew 0 (the
# unsecuredValidatorAllowableClockSkewMs default). The JAAS line also gives
# the broker's own login a token (sub=kafka); it is never used, the
# listener not being inter-broker.
broker_oauth_jaas="org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"$SERVICE_NAME\";"
OAUTH_VALIDATOR=org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler

broker_keystore() { # PREFIX -> the broker certificate as a PEM keystore
  printf '%s\n' \
    "$1.ssl.keystore.type=PEM" \
    "$1.ssl.keystore.location=$TLS_DIR/broker-keystore.pem" \
    "$1.ssl.key.password=$TLS_KEY_PASSWORD"
}

listener_config() { # NAME -> extra server.properties lines for that listener
  case $1 in
    SASL_PLAINTEXT)
      printf '%s\n' \
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms=GSSAPI" \
        "listener.name.sasl_plaintext.gssapi.sasl.jaas.config=$broker_gssapi_jaas"
      ;;
    SASL_SSL)
      printf '%s\n' \
        "listener.name.sasl_ssl.sasl.enabled.mechanisms=GSSAPI" \
        "listener.name.sasl_ssl.gssapi.sasl.jaas.config=$broker_gssapi_jaas"
      broker_keystore listener.name.sasl_ssl
      ;;
    SCRAM)
      printf '%s\n' \
        "listener.name.scram.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512" \
        "listener.name.scram.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;" \
        "listener.name.scram.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      ;;
    MTLS)
      broker_keystore listener.name.mtls
      printf '%s\n' \
        "listener.name.mtls.ssl.truststore.type=PEM" \
        "listener.name.mtls.ssl.truststore.location=$TLS_DIR/ca.pem" \
        "listener.name.mtls.ssl.client.auth=required"
      ;;
    PLAIN)
      printf '%s\n' \
        "listener.name.plain.sasl.enabled.mechanisms=PLAIN" \
        "listener.name.plain.plain.sasl.jaas.config=$broker_plain_jaas"
      ;;
    PLAIN_SSL)
      printf '%s\n' \
        "listener.name.plain_ssl.sasl.enabled.mechanisms=PLAIN" \
        "listener.name.plain_ssl.plain.sasl.jaas.config=$broker_plain_jaas"
      broker_keystore listener.name.plain_ssl
      ;;
    OAUTH)
      printf '%s\n' \
        "listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER" \
        "listener.name.oauth.oauthbearer.sasl.jaas.config=$broker_oauth_jaas" \
        "listener.name.oauth.oauthbearer.sasl.server.callback.handler.class=$OAUTH_VALIDATOR"
      ;;
  esac
}

l_listeners=() l_adv=() l_map=() l_extra=""
for entry in "${LISTENERS[@]}"; do
  IFS='|' read -r name proto bind adv port key <<<"$entry"
  l_listeners+=("$name://$bind:$port")
  l_adv+=("$name://$adv:$port")
  l_map+=("$name:$proto")
  l_extra+=$(listener_config "$name")$'\n'
done
join() { local IFS=,; printf '%s' "$*"; }

server_properties_text="# Generated by scripts/env-up.sh: single-node KRaft (broker+controller)
# for krafka's tests. Edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
listeners=$(join "${l_listeners[@]}")
advertised.listeners=$(join "${l_adv[@]}")
listener.security.protocol.map=$(join "${l_map[@]}")

# SASL
sasl.enabled.mechanisms=GSSAPI
sasl.kerberos.service.name=$SERVICE_NAME
${l_extra}
# Authorization, so tests can prove from the broker's side which principal a
# client authenticated as (ACLs; denials in kafka-authorizer.log). A resource
# without ACLs stays open to everyone. Super users: User:ANONYMOUS is every
# PLAINTEXT client *and* the broker itself on the inter-broker (PLAINTEXT) and
# controller (CONTROLLER, PLAINTEXT) listeners; User:kafka is the broker's own
# Kerberos principal $SERVICE_NAME/$GSSAPI_HOST@$REALM after the default
# sasl.kerberos.principal.to.local.rules.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
super.users=User:ANONYMOUS;User:$SERVICE_NAME

# Storage
log.dirs=$KAFKA_DATA_DIR

# Test-friendly defaults (one node, fast groups, few partitions)
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
# A deleted topic's files go at once, not a minute later (the default): the
# benchmark drops each run's topic, and the freed page cache then serves the
# next run's writes instead of being released in the middle of a later run.
log.segment.delete.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1"

# shellcheck disable=SC2206
KAFKA_JVM=(${KRAFKA_KAFKA_HEAP:--Xmx768m -Xms256m}
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true
  "-Djava.security.krb5.conf=$KRB5_CONF"
  "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka/log4j2.xml"
  "-Dkafka.logs.dir=$LOG_DIR"
  "$KAFKA_MARKER")
if [ "${KRAFKA_KAFKA_SECURITY_DEBUG:-0}" = 1 ]; then
  KAFKA_JVM+=(-Dkrafka.security.level=DEBUG -Dsun.security.krb5.debug=true)
fi
case ${KRAFKA_KAFKA_AUTHORIZER_LOG:-INFO} in
  INFO) ;;
  DEBUG|TRACE) KAFKA_JVM+=("-Dkrafka.authorizer.level=$KRAFKA_KAFKA_AUTHORIZER_LOG") ;;
  *) die "KRAFKA_KAFKA_AUTHORIZER_LOG must be INFO, DEBUG or TRACE" ;;
esac
# shellcheck disable=SC2206
KAFKA_JVM+=(${KRAFKA_KAFKA_JVM_OPTS:-})

# Mode 600: it holds the PLAIN password and the TLS key password.
write_secret_if_changed "$SERVER_PROPERTIES" "$server_properties_text" || true
# A running broker is restarted if anything it was started with changed.
kafka_fingerprint=$( { cat "$SERVER_PROPERTIES" "$KRB5_CONF" "$CP_FILE" "$SCRIPT_DIR/kafka/log4j2.xml" \
    "$TLS_DIR/broker-keystore.pem" "$TLS_DIR/ca.pem"
  printf '%s\n' "${KAFKA_JVM[@]}"; } | sha256sum | cut -c1-64)

client_gssapi_properties="# Java client settings for the GSSAPI listener (localhost:$GSSAPI_PORT)
# as krafka-client@$REALM; run the JVM with -Djava.security.krb5.conf=$KRB5_CONF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=GSSAPI
sasl.kerberos.service.name=$SERVICE_NAME
sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab=\"$KEYTAB_DIR/client.keytab\" principal=\"krafka-client@$REALM\";"
write_if_changed "$KAFKA_CONF_DIR/client-gssapi.properties" "$client_gssapi_properties" || true

# The same for the other listeners (and GSSAPI as alice / bob). The files
# holding a password are mode 600; env.json is the source of truth.
SCRAM_PW=$(json_field scram password)
[ -n "$SCRAM_PW" ] || SCRAM_PW=$(random_hex 12)
gssapi_client_jaas() { # principal keytab
  printf 'sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="%s" principal="%s";' "$2" "$1"
}
for who in alice bob; do
  write_if_changed "$KAFKA_CONF_DIR/client-gssapi-$who.properties" "# Java client settings for the GSSAPI listener ($GSSAPI_HOST:$GSSAPI_PORT)
# as $who@$REALM; run the JVM with -Djava.security.krb5.conf=$KRB5_CONF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=GSSAPI
sasl.kerberos.service.name=$SERVICE_NAME
$(gssapi_client_jaas "$who@$REALM" "$KEYTAB_DIR/$who.keytab")" || true
done
write_if_changed "$KAFKA_CONF_DIR/client-sasl-ssl.properties" "# Java client settings for the SASL_SSL/GSSAPI listener ($GSSAPI_HOST:$SASL_SSL_PORT)
# as krafka-client@$REALM; run the JVM with -Djava.security.krb5.conf=$KRB5_CONF
security.protocol=SASL_SSL
sasl.mechanism=GSSAPI
sasl.kerberos.service.name=$SERVICE_NAME
$(gssapi_client_jaas "krafka-client@$REALM" "$KEYTAB_DIR/client.keytab")
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem" || true
for mech in 512 256; do
  f=client-scram.properties
  [ $mech = 512 ] || f=client-scram-sha$mech.properties
  write_secret_if_changed "$KAFKA_CONF_DIR/$f" "# Java client settings for the SCRAM listener (127.0.0.1:$SCRAM_PORT) as $SCRAM_USER
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-$mech
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$SCRAM_USER\" password=\"$SCRAM_PW\";" || true
done
write_secret_if_changed "$KAFKA_CONF_DIR/client-mtls.properties" "# Java client settings for the mTLS listener ($TLS_HOST:$MTLS_PORT); the broker
# sees User:CN=$MTLS_CLIENT_CN
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/client-keystore.pem
ssl.key.password=$TLS_KEY_PASSWORD" || true
write_secret_if_changed "$KAFKA_CONF_DIR/client-plain.properties" "# Java client settings for the SASL/PLAIN listener (127.0.0.1:$PLAIN_PORT) as $PLAIN_USER
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$PLAIN_USER\" password=\"$PLAIN_PW\";" || true
write_secret_if_changed "$KAFKA_CONF_DIR/client-plain-ssl.properties" "# Java client settings for the SASL_SSL/PLAIN listener ($TLS_HOST:$PLAIN_SSL_PORT) as $PLAIN_USER
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$PLAIN_USER\" password=\"$PLAIN_PW\";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem" || true
write_if_changed "$KAFKA_CONF_DIR/client-oauth.properties" "# Java client settings for the OAUTHBEARER listener (127.0.0.1:$OAUTH_PORT), as
# User:alice: the Java client's default login callback handler
# (OAuthBearerUnsecuredLoginCallbackHandler) makes an unsigned JWT with
# sub=alice (lifetime 1 h, refreshed), which the broker's unsecured
# validator accepts. Another principal: change unsecuredLoginStringClaim_sub.
security.protocol=SASL_PLAINTEXT
sasl.mechanism=OAUTHBEARER
sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"alice\";" || true

kafka_state=running
pid=$(kafka_pid)
if [ -n "$pid" ] && [ "$(cat "$RUN_DIR/kafka.fingerprint" 2>/dev/null || true)" != "$kafka_fingerprint" ]; then
  log "broker config/classpath changed: restarting Kafka"
  stop_pid "$pid" kafka 60
  pid=""
fi
if [ -z "$pid" ]; then
  for entry in "${LISTENERS[@]}"; do
    IFS='|' read -r name proto bind adv port <<<"$entry"
    port_open "$bind" "$port" && die "$bind:$port ($name) is taken by another process (see scripts/env-common.sh for the port variables)"
  done
  if [ "${KRAFKA_KAFKA_FRESH:-0}" = 1 ] && [ -d "$KAFKA_DATA_DIR" ]; then
    log "KRAFKA_KAFKA_FRESH=1: wiping $KAFKA_DATA_DIR"
    rm -rf "$KAFKA_DATA_DIR"
  fi
  if [ ! -f "$KAFKA_DATA_DIR/meta.properties" ]; then
    rm -rf "$KAFKA_DATA_DIR"
    cluster_id=$("$SCRIPT_DIR/kafka-tool.sh" storage random-uuid 2>>"$LOG_DIR/kafka.out" </dev/null)
    log "formatting Kafka storage (cluster $cluster_id)"
    "$SCRIPT_DIR/kafka-tool.sh" storage format --standalone -t "$cluster_id" \
      -c "$SERVER_PROPERTIES" >>"$LOG_DIR/kafka.out" 2>&1 </dev/null \
      || { tail -n 30 "$LOG_DIR/kafka.out" >&2; die "kafka StorageTool format failed"; }
  fi
  printf '\n=== %s kafka %s start\n' "$(date -Is)" "$KAFKA_VERSION" >>"$LOG_DIR/kafka.out"
  # shellcheck disable=SC2016
  setsid sh -c 'echo $$ > "$0"; exec "$@"' "$KAFKA_PID_FILE" \
    "$JAVA" "${KAFKA_JVM[@]}" -cp "$(cat "$CP_FILE")" kafka.Kafka "$SERVER_PROPERTIES" \
    </dev/null >>"$LOG_DIR/kafka.out" 2>&1 9>&- &
  printf '%s\n' "$kafka_fingerprint" > "$RUN_DIR/kafka.fingerprint"
  kafka_state=started
  sleep 0.2
fi

kafka_fail() {
  log "$1"
  printf -- '--- tail %s\n' "$LOG_DIR/kafka-server.log" >&2
  tail -n 40 "$LOG_DIR/kafka-server.log" >&2 2>/dev/null || true
  printf -- '--- tail %s\n' "$LOG_DIR/kafka.out" >&2
  tail -n 20 "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
  exit 1
}

# Ready = the broker answers a real metadata request on PLAINTEXT.
deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
ready=0
while [ "$(now_ms)" -lt "$deadline" ]; do
  pid=$(kafka_pid)
  [ -n "$pid" ] || kafka_fail "the Kafka broker exited"
  if port_open 127.0.0.1 "$PLAINTEXT_PORT"; then
    if timeout 60 "$SCRIPT_DIR/kafka-tool.sh" topics --bootstrap-server "127.0.0.1:$PLAINTEXT_PORT" --list \
        >"$RUN_DIR/ready.out" 2>&1 </dev/null; then
      ready=1; break
    fi
  fi
  sleep 0.5
done
[ $ready -eq 1 ] || kafka_fail "Kafka did not answer metadata on 127.0.0.1:$PLAINTEXT_PORT within ${TIMEOUT}s ($(tail -n 3 "$RUN_DIR/ready.out" 2>/dev/null | tr '\n' ' '))"
for entry in "${LISTENERS[@]}"; do
  IFS='|' read -r name proto bind adv port key <<<"$entry"
  port_open "$bind" "$port" || kafka_fail "$name listener $bind:$port is not open"
done

# TLS listeners: a real handshake (openssl, ~20 ms), verifying the chain
# against ca.pem and the advertised host name; mTLS with the client cert,
# over TLS 1.2, where the broker accepts or rejects the client certificate
# inside the handshake (TLS 1.3 clients only learn of a rejection later).
tls_check() { # port [openssl options]
  local port=$1; shift
  timeout 10 "$OPENSSL" s_client -connect "127.0.0.1:$port" -servername "$TLS_HOST" \
    -verify_hostname "$TLS_HOST" -verify_return_error -CAfile "$TLS_DIR/ca.pem" "$@" \
    </dev/null >"$RUN_DIR/ready-tls-$port.out" 2>&1 \
    || { tail -n 15 "$RUN_DIR/ready-tls-$port.out" >&2; kafka_fail "TLS handshake with 127.0.0.1:$port failed"; }
}
tls_check "$SASL_SSL_PORT"
tls_check "$PLAIN_SSL_PORT"
tls_check "$MTLS_PORT" -tls1_2 -cert "$TLS_DIR/client.pem" -key "$TLS_DIR/client-key.pem"

# The SCRAM user: (re)created with kafka-configs over PLAINTEXT (idempotent
# upsert) when the broker's cluster or the password is new to this stamp.
cluster_id=$(sed -n 's/^cluster\.id=//p' "$KAFKA_DATA_DIR/meta.properties" 2>/dev/null || true)
scram_stamp=$(printf '%s\n' "$cluster_id" "$SCRAM_USER" "$SCRAM_PW" | sha256sum | cut -c1-64)
scram_set=0
if [ "$(cat "$RUN_DIR/scram.stamp" 2>/dev/null || true)" != "$scram_stamp" ]; then
  # Through a file, not argv: the password stays out of ps and logs (in an
  # --add-config-file the brackets of the command-line syntax must go). One
  # mechanism per call: a KRaft controller refuses two changes of one user in
  # one request ("A user credential cannot be altered twice in the same
  # request"). The two calls run in parallel.
  scram_pids=()
  for mech in 256 512; do
    (umask 077; printf 'SCRAM-SHA-%s=iterations=4096,password=%s\n' "$mech" "$SCRAM_PW" > "$ccdir/scram-$mech.properties")
    timeout 60 "$SCRIPT_DIR/kafka-tool.sh" configs --bootstrap-server "127.0.0.1:$PLAINTEXT_PORT" --alter \
      --entity-type users --entity-name "$SCRAM_USER" --add-config-file "$ccdir/scram-$mech.properties" \
      >"$RUN_DIR/scram-$mech.out" 2>&1 </dev/null &
    scram_pids+=($!)
  done
  for i in 0 1; do
    wait "${scram_pids[$i]}" || { cat "$RUN_DIR"/scram-*.out >&2; kafka_fail "could not create SCRAM user $SCRAM_USER"; }
  done
  rm -f "$ccdir"/scram-*.properties
  printf '%s\n' "$scram_stamp" > "$RUN_DIR/scram.stamp"
  scram_set=1
  log "SCRAM user $SCRAM_USER set (SCRAM-SHA-256, SCRAM-SHA-512)"
fi

verify=${KRAFKA_ENV_VERIFY:-}
[ -n "$verify" ] || { [ $kafka_state = started ] || [ $scram_set = 1 ] && verify=full || verify=basic; }
if [ "$verify" = full ]; then
  # A real metadata request over each authenticated listener, end to end with
  # the Java client (in parallel: ~2 s of JVM start each).
  java_check() { # name bootstrap client-config
    local i
    for ((i = 0; i < 5; i++)); do
      timeout 60 "$SCRIPT_DIR/kafka-tool.sh" topics --bootstrap-server "$2" \
        --command-config "$3" --list >"$RUN_DIR/ready-$1.out" 2>&1 </dev/null && return 0
      # A just-written SCRAM credential can lag the broker's metadata a little.
      grep -q 'Authentication failed during authentication due to invalid credentials' \
        "$RUN_DIR/ready-$1.out" || return 1
      sleep 1
    done
    return 1
  }
  checks=("gssapi|$GSSAPI_HOST:$GSSAPI_PORT|client-gssapi.properties"
    "sasl-ssl|$GSSAPI_HOST:$SASL_SSL_PORT|client-sasl-ssl.properties"
    "scram|127.0.0.1:$SCRAM_PORT|client-scram.properties"
    "mtls|$TLS_HOST:$MTLS_PORT|client-mtls.properties"
    "plain|127.0.0.1:$PLAIN_PORT|client-plain.properties"
    "plain-ssl|$TLS_HOST:$PLAIN_SSL_PORT|client-plain-ssl.properties"
    "oauth|127.0.0.1:$OAUTH_PORT|client-oauth.properties")
  check_pids=()
  for c in "${checks[@]}"; do
    IFS='|' read -r name boot conf <<<"$c"
    java_check "$name" "$boot" "$KAFKA_CONF_DIR/$conf" &
    check_pids+=($!)
  done
  failed=""
  for i in "${!checks[@]}"; do
    IFS='|' read -r name boot conf <<<"${checks[$i]}"
    wait "${check_pids[$i]}" || { cat "$RUN_DIR/ready-$name.out" >&2; failed+=" $name ($boot)"; }
  done
  # (A SCRAM user deleted behind our back: the next run sets it again.)
  case $failed in *scram*) rm -f "$RUN_DIR/scram.stamp" ;; esac
  [ -z "$failed" ] || kafka_fail "metadata request failed over:$failed"
fi
summary=""
for entry in "${LISTENERS[@]}"; do
  IFS='|' read -r name proto bind adv port key <<<"$entry"
  [ -n "$key" ] && summary+="${summary:+, }$key $adv:$port"
done
log "Kafka $KAFKA_VERSION $kafka_state (pid $pid): $summary (verified: $verify)"

# ---------------------------------------------------------------- env.json --
princ_json() { # key principal keytab
  printf '    %s: { "principal": %s, "keytab": %s }' "$(json_str "$1")" "$(json_str "$2")" "$(json_str "$3")"
}
{
  printf '{\n'
  printf '  "kafkaVersion": %s,\n' "$(json_str "$KAFKA_VERSION")"
  printf '  "realm": %s,\n' "$(json_str "$REALM")"
  printf '  "krb5Conf": %s,\n' "$(json_str "$KRB5_CONF")"
  printf '  "kdc": %s,\n' "$(json_str "127.0.0.1:$KDC_PORT")"
  printf '  "serviceName": %s,\n' "$(json_str "$SERVICE_NAME")"
  boot=""
  for entry in "${LISTENERS[@]}"; do
    IFS='|' read -r name proto bind adv port key <<<"$entry"
    [ -n "$key" ] && boot+="${boot:+, }$(json_str "$key"): $(json_str "$adv:$port")"
  done
  printf '  "bootstrap": { %s },\n' "$boot"
  printf '  "principals": {\n'
  princ_json client "krafka-client@$REALM" "$KEYTAB_DIR/client.keytab"; printf ',\n'
  princ_json alice "alice@$REALM" "$KEYTAB_DIR/alice.keytab"; printf ',\n'
  princ_json bob "bob@$REALM" "$KEYTAB_DIR/bob.keytab"; printf ',\n'
  princ_json shortlived "shortlived@$REALM" "$KEYTAB_DIR/shortlived.keytab"; printf ',\n'
  princ_json broker "$SERVICE_NAME/$GSSAPI_HOST@$REALM" "$KEYTAB_DIR/kafka.keytab"; printf ',\n'
  printf '    "pwuser": { "principal": %s, "password": %s }\n' "$(json_str "pwuser@$REALM")" "$(json_str "$PW")"
  printf '  },\n'
  printf '  "classpathFile": %s,\n' "$(json_str "$CP_FILE")"
  if [ -n "$JAVA_HOME_REAL" ]; then
    printf '  "javaHome": %s,\n' "$(json_str "$JAVA_HOME_REAL")"
  else
    printf '  "javaHome": null,\n'
  fi
  printf '  "tls": { "caPem": %s, "clientCertPem": %s, "clientKeyPem": %s, "clientKeyEncryptedPem": %s, "keyPassword": %s, "clientPrincipal": %s },\n' \
    "$(json_str "$TLS_DIR/ca.pem")" "$(json_str "$TLS_DIR/client.pem")" "$(json_str "$TLS_DIR/client-key.pem")" \
    "$(json_str "$TLS_DIR/client-key-encrypted.pem")" "$(json_str "$TLS_KEY_PASSWORD")" \
    "$(json_str "User:CN=$MTLS_CLIENT_CN")"
  printf '  "scram": { "username": %s, "password": %s, "mechanisms": ["SCRAM-SHA-256", "SCRAM-SHA-512"] },\n' \
    "$(json_str "$SCRAM_USER")" "$(json_str "$SCRAM_PW")"
  printf '  "plain": { "username": %s, "password": %s },\n' "$(json_str "$PLAIN_USER")" "$(json_str "$PLAIN_PW")"
  printf '  "oauth": { "note": "unsecured JWT, alg none" },\n'
  printf '  "javaClientConfigs": {\n'
  sep=""
  for c in gssapi:client-gssapi gssapiAlice:client-gssapi-alice gssapiBob:client-gssapi-bob \
      sasl_ssl:client-sasl-ssl scram:client-scram scramSha256:client-scram-sha256 mtls:client-mtls \
      plain:client-plain plain_ssl:client-plain-ssl oauth:client-oauth; do
    printf '%s    %s: %s' "$sep" "$(json_str "${c%%:*}")" "$(json_str "$KAFKA_CONF_DIR/${c#*:}.properties")"
    sep=$',\n'
  done
  printf '\n  },\n'
  printf '  "logs": { "kafka": %s, "kdc": %s, "authorizer": %s }\n' \
    "$(json_str "$LOG_DIR/kafka-server.log")" "$(json_str "$LOG_DIR/kdc.log")" \
    "$(json_str "$LOG_DIR/kafka-authorizer.log")"
  printf '}\n'
} > "$ENV_JSON.tmp"
chmod 600 "$ENV_JSON.tmp"
mv "$ENV_JSON.tmp" "$ENV_JSON"

t=$(( $(now_ms) - T0 ))
log "ready in $((t / 1000)).$(printf '%03d' $((t % 1000)) | cut -c1)s: $ENV_JSON"
