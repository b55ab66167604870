'use strict'
// Errors: KafkaError, and the one decoding of the addon's encoded errors.

/** An error from Kafka or krafka. `code` mirrors librdkafka's names (`ERR__QUEUE_FULL`). */
class KafkaError extends Error {
  constructor(message, code, flags = {}) {
    super(message)
    this.name = 'KafkaError'
    this.code = code
    this.retriable = Boolean(flags.retriable)
    this.fatal = Boolean(flags.fatal)
    /** Transactions: the transaction must be aborted (`abortTransaction()`) before going on. */
    this.abortable = Boolean(flags.abortable ?? flags.txnRequiresAbort)
  }
  /** Alias of `abortable`, librdkafka's name. */
  get txnRequiresAbort() {
    return this.abortable
  }
}

const ENCODED = /^(ERR_[A-Za-z0-9_]+)\|([01])\|([01])\|([01])\|/

/** Decodes the addon's `CODE|retriable|fatal|abort|message` error strings. */
function decodeError(s) {
  const m = ENCODED.exec(s)
  if (!m) return null
  return new KafkaError(s.slice(m[0].length), m[1], {
    retriable: m[2] === '1',
    fatal: m[3] === '1',
    abortable: m[4] === '1',
  })
}

/** Any error out of the addon as a KafkaError, or a TypeError for a value of the wrong type. */
function fromNative(e) {
  if (e instanceof KafkaError || e instanceof TypeError) return e
  const decoded = e && typeof e.message === 'string' ? decodeError(e.message) : null
  if (decoded) return decoded
  // napi's own argument conversion failures: a JS value of the wrong type.
  return new TypeError(e && e.message ? e.message : String(e))
}

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw fromNative(e)
  }
}

async function callAsync(promise) {
  try {
    return await promise
  } catch (e) {
    throw fromNative(e)
  }
}

/**
 * Client-level errors (broker unreachable, authentication failed, ...) are
 * emitted as 'error' events when someone listens; librdkafka keeps retrying
 * in the background either way, so an unheard error is not thrown.
 */
function emitClientError(emitter, encoded) {
  if (emitter.listenerCount('error') === 0) return
  emitter.emit('error', decodeError(encoded) || new KafkaError(encoded, 'ERR__FAIL'))
}

module.exports = { KafkaError, decodeError, fromNative, call, callAsync, emitClientError }
