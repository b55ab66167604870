'use strict'
// The Kerberos doctor: checkKerberos().

const { native } = require('./client')
const { call, callAsync } = require('./error')
const { checkConfig } = require('./config')

/**
 * Walks the Kerberos chain for a GSSAPI config and reports every step with
 * pass/fail and a fix: krb5 config and realm, KDC reachable, keytab (key
 * versions and enctypes), TGT, service ticket, clock skew, broker handshake.
 */
async function checkKerberos(config) {
  checkConfig(config)
  const steps = await callAsync(call(() => native.checkKerberosNative(config)))
  // Healthy = every step passed through to the broker handshake (7 steps with a
  // keytab, 6 with a ticket cache, 2 on Windows where SSPI has no krb5 steps).
  const last = steps[steps.length - 1]
  return { ok: last?.step === 'broker SASL handshake' && steps.every((s) => s.ok), steps }
}

module.exports = { checkKerberos }
