'use strict'
// Promises that the addon makes and settles (crates/krafka-node/src/promises.rs),
// for the send()s past JS_PROMISES in flight (lib/producer.js).
//
// Each send() in flight is a pending promise that V8's young-generation GC
// copies until the record is acknowledged. A `new Promise` kept with its
// resolve function is about 160 bytes of heap; a promise made by the addon
// (napi_create_promise) needs no resolve function on the JS heap, about 46
// (bench/promise-bytes.js). With tens of thousands in flight, copying them is
// the GC's pause, i.e. the event-loop delay. The addon makes them a pool at a
// time and settles them a delivery batch at a time: one native call each way
// per batch, not per record.

const { native } = require('./client')

const POOL = 1024

/** The promises made and not yet handed out, shared by every producer of this thread. */
const pool = new Array(POOL).fill(undefined)
const poolNumbers = new Uint32Array(POOL)
let next = POOL // index of the next unused promise in `pool`; POOL = empty

/** Resolutions waiting for flush(). */
let numbers = new Uint32Array(POOL)
let values = new Array(POOL).fill(undefined)
let queued = 0

/**
 * A new pending promise; its number (what resolve() and reject() take) is
 * left in `taken.number`, so that taking one allocates nothing more.
 */
function take() {
  if (next === POOL) {
    native.makePromises(pool, poolNumbers)
    next = 0
  }
  const p = pool[next]
  pool[next] = undefined
  taken.number = poolNumbers[next++]
  return p
}
const taken = { number: 0 }

/** Queues promise `number`'s resolution with `value`; it happens at flush(). */
function resolve(number, value) {
  if (queued === numbers.length) {
    const n2 = new Uint32Array(queued * 2)
    n2.set(numbers)
    numbers = n2
    values.length = queued * 2
    values.fill(undefined, queued)
  }
  numbers[queued] = number
  values[queued++] = value
}

/** Rejects promise `number` with `err`, after the resolutions queued before it. */
function reject(number, err) {
  flush()
  native.settlePromises(Uint32Array.of(number), [err], 1, true)
}

/** Settles the queued resolutions, in order, in one native call. */
function flush() {
  if (queued === 0) return
  const n = queued
  queued = 0
  try {
    native.settlePromises(numbers, values, n, false)
  } finally {
    values.fill(undefined, 0, n)
  }
}

module.exports = { take, taken, resolve, reject, flush }
