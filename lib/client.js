'use strict'
// What every client class shares.

/** The napi addon, loaded by the loader napi generates. */
const native = require('../index.js')

const DEFAULT_TIMEOUT_MS = 30000

/** Key under which a JS object keeps its native counterpart (e.g. groupMetadata()). */
const NATIVE = Symbol('krafka.native')

function noop() {}

module.exports = { native, DEFAULT_TIMEOUT_MS, NATIVE, noop }
