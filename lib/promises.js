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
// time and settles them (resolutions and rejections alike) a delivery batch at
// a time: one native call each way per batch, not per record.

const { native } = require('./client')
const { grow } = require('./record')

const POOL = 1024

/** The promises made and not yet handed out, shared by every producer of this thread. */
const pool = new Array(POOL).fill(undefined)
const poolNumbers = new Uint32Array(POOL)
let next = POOL // index of the next unused promise in `pool`; POOL = empty

/** Settlements waiting for flush(), in report order: rejects[i] is 1 for a rejection. */
let numbers = new Uint32Array(POOL)
let rejects = new Uint8Array(POOL)
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
  queue(number, value, 0)
}

/** Queues promise `number`'s rejection with `err`; it happens at flush(), after what was queued before it. */
function reject(number, err) {
  queue(number, err, 1)
}

function queue(number, value, rejected) {
  if (queued === numbers.length) {
    numbers = grow(numbers, queued * 2)
    rejects = grow(rejects, queued * 2)
    values.length = queued * 2
    values.fill(undefined, queued)
  }
  numbers[queued] = number
  rejects[queued] = rejected
  values[queued++] = value
}

/** Settles the queued promises, in order, in one native call. */
function flush() {
  if (queued === 0) return
  const n = queued
  queued = 0
  try {
    native.settlePromises(numbers, values, n, rejects)
  } finally {
    values.fill(undefined, 0, n)
  }
}

module.exports = { take, taken, resolve, reject, flush }
