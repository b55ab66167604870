'use strict'
// What every client class shares.

/** The napi addon, loaded by the loader napi generates. */
const native = require('../index.js')
const { KafkaError } = require('./error')

const DEFAULT_TIMEOUT_MS = 30000

/** Key under which a JS object keeps its native counterpart (e.g. groupMetadata()). */
const NATIVE = Symbol('krafka.native')

function noop() {}

/**
 * Emits librdkafka's statistics (`statistics.interval.ms`) as an object,
 * parsed only when someone listens. Text that fails to parse (librdkafka
 * writes it, so this is not expected) becomes an 'error' event instead: a
 * 'stats' listener only ever gets the object its type promises.
 */
function emitStats(emitter, json) {
  if (emitter.listenerCount('stats') === 0) return
  let stats
  try {
    stats = JSON.parse(json)
  } catch (e) {
    if (emitter.listenerCount('error') > 0) {
      emitter.emit('error', new KafkaError(`librdkafka's statistics are not JSON: ${e.message}`, 'ERR__BAD_MSG'))
    }
    return
  }
  emitter.emit('stats', stats)
}

module.exports = { native, DEFAULT_TIMEOUT_MS, NATIVE, noop, emitStats }
