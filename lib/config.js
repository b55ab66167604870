'use strict'
// Config objects: the checks every client runs on its config, the JS
// callbacks split out of it, and Java-style client.properties.

function checkConfig(config) {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new TypeError('config must be an object of Kafka config keys, e.g. { "bootstrap.servers": "host:9092" }')
  }
  return config
}

/**
 * Splits JS callbacks out of a config (the addon takes only strings, numbers
 * and booleans): `oauth_cb`, as in confluent-kafka-python, is the
 * SASL/OAUTHBEARER token provider.
 */
function splitCallbacks(config) {
  const { oauth_cb: oauthCb, ...rest } = checkConfig(config)
  if (oauthCb !== undefined && typeof oauthCb !== 'function') throw new TypeError('oauth_cb must be a function returning { token, lifetimeMs, principal }')
  return { native: rest, oauthCb }
}

/** Calls the app's token provider and checks what it returned. */
async function fetchToken(oauthCb, oauthConfig) {
  const t = await oauthCb(oauthConfig)
  if (!t || typeof t.token !== 'string' || !Number.isFinite(t.lifetimeMs) || typeof t.principal !== 'string') {
    throw new TypeError('oauth_cb must resolve to { token: string, lifetimeMs: number (expiry, ms since epoch), principal: string, extensions? }')
  }
  return t
}

/** Reads Java-style `client.properties` text into a config object. */
function parseProperties(text) {
  const out = {}
  const lines = text.replace(/\\\r?\n\s*/g, '').split(/\r?\n/)
  for (const raw of lines) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith('!')) continue
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line)
    if (m) out[m[1]] = m[2]
  }
  return out
}

module.exports = { checkConfig, splitCallbacks, fetchToken, parseProperties }
