'use strict'
// A reference for krafka's send() rows, not a client: a send() that returns a
// promise per record and keeps nothing else. Scenario 1 only.
//
// Every send() promise in flight is an object (with its resolve function and
// that function's context) that each young-generation GC copies until the
// record is acknowledged, so with tens of thousands in flight the GC's pauses
// are the event-loop delay. This reference shows what that costs whoever
// makes the promises: per record it keeps only the promise's resolve (in a
// ring) and makes only the report object it resolves with; the records travel
// on krafka's columnar transport, those of one event-loop turn in one
// sendRaw() (no object per record in or out), so broker, librdkafka and
// acknowledgements are krafka's own. It sends only the benchmark's record
// (one topic, one value) and never reads it. It is not a lower bound: it
// settles a turn's promises when the whole sendRaw() is acknowledged, where
// krafka's send() settles each as its report arrives.
const { produceWith, senders } = require('./krafka')

class PromisePerRecord {
  #producer
  #topic
  #value
  #resolves = new Array(1 << 17) // a ring: more than the 50,000 (+ a chunk) the harness keeps in flight
  #mask = (1 << 17) - 1
  #next = 0 // the next record's number
  #unsent = 0 // the first record not yet handed to sendRaw()
  #live = 0
  #queued = false
  #starts = new Int32Array(1000) // every record's value is the same bytes: offset 0
  #lengths
  #flushNow = () => this.#flush()

  constructor(producer, topic, value) {
    this.#producer = producer
    this.#topic = topic
    this.#value = value
    this.#lengths = new Int32Array(1000).fill(value.length)
  }

  send(record) {
    if (record.topic !== this.#topic || record.value !== this.#value) return Promise.reject(new Error("the reference sends only the benchmark's topic and value"))
    if (this.#live > this.#mask) return Promise.reject(new Error("more records in flight than the reference's ring holds"))
    const promise = new Promise(take)
    this.#resolves[this.#next++ & this.#mask] = taken
    taken = undefined
    this.#live++
    if (!this.#queued) {
      this.#queued = true
      queueMicrotask(this.#flushNow)
    }
    return promise
  }

  #flush() {
    this.#queued = false
    const first = this.#unsent
    const n = this.#next - first
    this.#unsent = this.#next
    if (n > this.#starts.length) {
      this.#starts = new Int32Array(n)
      this.#lengths = new Int32Array(n).fill(this.#value.length)
    }
    const cols = { valueStarts: this.#starts.subarray(0, n), valueLengths: this.#lengths.subarray(0, n) }
    this.#producer.sendRaw({ topic: this.#topic, data: this.#value, ...cols }).then(
      (raw) => this.#settle(first, n, raw, null),
      (e) => this.#settle(first, n, null, e)
    )
  }

  #settle(first, n, raw, err) {
    const topic = this.#topic
    for (let i = 0; i < n; i++) {
      const slot = (first + i) & this.#mask
      const resolve = this.#resolves[slot]
      this.#resolves[slot] = undefined
      if (err) resolve(Promise.reject(err))
      else resolve({ topic, partition: raw.partition(i), offset: raw.offset(i), timestamp: raw.timestamp(i) })
    }
    this.#live -= n
  }
}

/** The one executor: leaves resolve in `taken` (no closure per record, as krafka's send()). */
let taken
function take(resolve) {
  taken = resolve
}

/** Scenario 1 through krafka's send() rows' driver and caller (contenders/krafka.js), at their in-flight caps. */
async function produce(p) {
  if (!/^send(@\d+)?$/.test(p.variant || 'send')) throw new Error(`unknown produce variant ${p.variant}`)
  return produceWith(p, (producer, topic, value) => senders.send(new PromisePerRecord(producer, topic, value), topic, value))
}

module.exports = { version: `node ${process.version}`, scenarios: { produce } }
