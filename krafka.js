'use strict'
// krafka's public JS surface: a thin layer over the generated napi binding
// (index.js). It holds only what napi cannot express cheaply:
//  - `KafkaError` as a real Error subclass (napi cannot build JS subclasses
//    from async Rust, napi-rs #1205);
//  - per-send Promises resolved in batches from one delivery callback (an
//    async napi call per send would cost ~77 µs each, shared/DESIGN.md);
//  - async iteration that yields single messages from native batches and
//    stores an offset only after the loop body finished (at-least-once);
//  - the batch layout on both paths: records and consumed messages cross
//    as one Buffer plus typed-array columns (Packer, RawBatch), so no napi
//    call or property-by-property conversion happens per message.
// All defaults, validation and Kafka logic live in the Rust core.

const { EventEmitter } = require('node:events')
// Node 20 serves the global `Buffer` through a getter: a module binding is cheaper per message.
const { Buffer } = require('node:buffer')
const { performance } = require('node:perf_hooks')
const native = require('./index.js')

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

function isBytes(v) {
  return typeof v === 'string' || Buffer.isBuffer(v)
}

function bytesField(record, field, allowNull) {
  const v = record[field]
  if (v === undefined || (allowNull && v === null)) return undefined
  if (isBytes(v)) return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  throw new TypeError(`record.${field} must be a Buffer, a string${allowNull ? ' or null' : ''}; got ${typeof v}`)
}

function headerValue(v, name) {
  if (v === null || v === undefined) return undefined
  if (isBytes(v)) return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  throw new TypeError(`record.headers["${name}"] must be a Buffer, a string or null; got ${typeof v}`)
}

/** Headers as `{ k: v | v[] }`, `[[k, v], ...]` or `[{ key, value }, ...]` → ordered pairs. */
function normalizeHeaders(h) {
  if (h === undefined || h === null) return undefined
  const out = []
  if (Array.isArray(h)) {
    for (const e of h) {
      const [key, value] = Array.isArray(e) ? e : [e && e.key, e && e.value]
      if (typeof key !== 'string') throw new TypeError('record.headers entries need a string key')
      out.push({ key, value: headerValue(value, key) })
    }
  } else if (typeof h === 'object') {
    for (const key of Object.keys(h)) {
      const v = h[key]
      for (const value of Array.isArray(v) ? v : [v]) out.push({ key, value: headerValue(value, key) })
    }
  } else {
    throw new TypeError('record.headers must be an object or an array of [key, value] pairs')
  }
  return out
}

/**
 * Checks a record's shape and converts it for the addon; throws TypeError
 * naming the field. Key, value, partition, timestamp and headers of the result
 * may be null (= absent).
 */
function toNativeRecord(record) {
  if (record === null || typeof record !== 'object') throw new TypeError('record must be an object with at least a topic')
  if (typeof record.topic !== 'string' || record.topic.length === 0) {
    throw new TypeError('record.topic must be a non-empty string')
  }
  // The common record (string/Buffer/null key and value, nothing else) is
  // used as it is: no second object per record on the hot path.
  const v = record.value
  const k = record.key
  if (
    (v === undefined || v === null || isBytes(v)) &&
    (k === undefined || k === null || isBytes(k)) &&
    (record.partition === undefined || record.partition === null) &&
    (record.timestamp === undefined || record.timestamp === null) &&
    (record.headers === undefined || record.headers === null)
  ) {
    return record
  }
  const out = { topic: record.topic, value: bytesField(record, 'value', true), key: bytesField(record, 'key', true) }
  if (record.partition !== undefined && record.partition !== null) {
    if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition > 0x7fffffff) {
      throw new TypeError('record.partition must be a non-negative integer')
    }
    out.partition = record.partition
  }
  if (record.timestamp !== undefined && record.timestamp !== null) {
    const ts = record.timestamp instanceof Date ? record.timestamp.getTime() : record.timestamp
    if (!Number.isInteger(ts) || ts < 0) throw new TypeError('record.timestamp must be ms since the epoch (integer) or a Date')
    out.timestamp = ts
  }
  const headers = normalizeHeaders(record.headers)
  if (headers) out.headers = headers
  return out
}

/**
 * Records laid out for one native call, in the consumer batch's layout: one
 * Buffer of keys and values plus typed-array columns (see `producePacked` in
 * crates/krafka-node/src/producer.rs). Replaces a napi call and a property-by-
 * property object conversion per record. The buffers are reused: librdkafka
 * copies the bytes during the call.
 */
class Packer {
  data = Buffer.allocUnsafeSlow(1 << 16)
  pos = 0
  fields = new Int32Array(8 * 1024)
  nums = new Float64Array(2 * 1024)
  n = 0
  topics = []
  #lastTopic = null
  #lastIdx = -1
  headerKeys = []
  headerFields = new Int32Array(64)

  /** Appends a record checked by toNativeRecord. */
  add(rec, id) {
    if ((this.n + 1) * 8 > this.fields.length) {
      this.fields = grow(this.fields, this.fields.length * 2)
      this.nums = grow(this.nums, this.nums.length * 2)
    }
    const f = this.n * 8
    let t = this.#lastIdx
    if (rec.topic !== this.#lastTopic) {
      t = this.topics.indexOf(rec.topic)
      if (t < 0) t = this.topics.push(rec.topic) - 1
      this.#lastTopic = rec.topic
      this.#lastIdx = t
    }
    this.fields[f] = t
    this.fields[f + 1] = rec.partition == null ? -1 : rec.partition
    this.#bytes(rec.key, f + 2)
    this.#bytes(rec.value, f + 4)
    const hs = rec.headers
    this.fields[f + 6] = this.headerKeys.length
    this.fields[f + 7] = hs ? hs.length : 0
    if (hs) {
      for (const h of hs) {
        const k = this.headerKeys.push(h.key) - 1
        if ((k + 1) * 2 > this.headerFields.length) this.headerFields = grow(this.headerFields, this.headerFields.length * 2)
        this.headerFields[k * 2] = this.pos
        this.headerFields[k * 2 + 1] = this.#put(h.value)
      }
    }
    this.nums[this.n * 2] = id
    this.nums[this.n * 2 + 1] = rec.timestamp == null ? -1 : rec.timestamp
    this.n++
  }

  #bytes(v, at) {
    this.fields[at] = this.pos
    this.fields[at + 1] = this.#put(v)
  }

  /** Appends v's bytes at `pos`; returns their length, -1 for null or undefined. */
  #put(v) {
    if (v == null) return -1
    const start = this.pos
    if (typeof v === 'string') {
      this.#room(v.length * 3)
      this.pos += this.data.write(v, start)
    } else {
      this.#room(v.length)
      this.data.set(v, start)
      this.pos += v.length
    }
    return this.pos - start
  }

  #room(len) {
    if (this.pos + len <= this.data.length) return
    const next = Buffer.allocUnsafeSlow(Math.max(this.data.length * 2, this.pos + len))
    this.data.copy(next, 0, 0, this.pos)
    this.data = next
  }

  /** Hands records `from..n` to the addon; returns its PackedResult. */
  send(nativeProducer, from = 0) {
    return nativeProducer.producePacked(
      this.data.subarray(0, this.pos),
      this.topics,
      this.fields.subarray(0, this.n * 8),
      this.nums.subarray(0, this.n * 2),
      this.headerKeys,
      this.headerFields.subarray(0, this.headerKeys.length * 2),
      from
    )
  }

  /** A copy that owns its memory (for records that wait for queue room). */
  snapshot() {
    const c = new Packer()
    c.data = Buffer.from(this.data.subarray(0, this.pos))
    c.pos = this.pos
    c.fields = this.fields.slice(0, this.n * 8)
    c.nums = this.nums.slice(0, this.n * 2)
    c.n = this.n
    c.topics = this.topics.slice()
    c.headerKeys = this.headerKeys.slice()
    c.headerFields = this.headerFields.slice(0, this.headerKeys.length * 2)
    return c
  }

  /** Id of record i. */
  id(i) {
    return this.nums[i * 2]
  }

  reset() {
    if (this.data.length > 8 * CHUNK_BYTES) this.data = Buffer.allocUnsafeSlow(1 << 16) // after a huge value
    this.pos = 0
    this.n = 0
    this.topics.length = 0
    this.headerKeys.length = 0
    this.#lastTopic = null
    this.#lastIdx = -1
  }
}

function grow(arr, len) {
  const next = new arr.constructor(len)
  next.set(arr)
  return next
}

/** Records per native crossing at most; bounds each call's event-loop time. */
const CHUNK_RECORDS = 1000
const CHUNK_BYTES = 1 << 20

const DEFAULT_TIMEOUT_MS = 30000
/** How long `for await` runs loop bodies before it lets the event loop take a turn. */
const TURN_MS = 2
/**
 * How long delivery reports are settled in one event-loop turn; later reports
 * wait for the next turn. Node runs up to 1,000 queued delivery calls back to
 * back, so only a time bound on the JS side gives timers their turn.
 */
const SETTLE_MS = 1
const NATIVE = Symbol('krafka.native')

/**
 * Client-level errors (broker unreachable, authentication failed, ...) are
 * emitted as 'error' events when someone listens; librdkafka keeps retrying
 * in the background either way, so an unheard error is not thrown.
 */
function emitClientError(emitter, encoded) {
  if (emitter.listenerCount('error') === 0) return
  emitter.emit('error', decodeError(encoded) || new KafkaError(encoded, 'ERR__FAIL'))
}

const CLIENT_ERROR = 0xffffffff

class Producer extends EventEmitter {
  #native
  // Records in flight, by id, in a ring: id's slot is `id & #mask`. For send(),
  // the slot is the promise's resolve function, with its reject and topic in
  // the parallel arrays; for produce(), its onDelivery (or noop) with
  // ON_DELIVERY as the reject; for sendBatch(), one entry shared by the batch.
  // Fixed arrays, not a Map, no object per send() and no array that grows and
  // shifts: objects or fresh arrays alive while records are in flight make
  // every young-generation GC copy them (the event-loop delay of scenario 5).
  #slots = new Array(1024).fill(undefined)
  #rejects = new Array(1024).fill(undefined)
  #topics = new Array(1024).fill(undefined)
  #mask = 1023
  #next = 1 // id of the next record
  #far = new Map() // id -> [slot, reject, topic] for stragglers moved out of the ring
  #takenReject = undefined // see #take
  #takenTopic = undefined
  #base = 1 // ids below it are settled or in #far
  #live = 0
  #packer = new Packer() // send()s not yet handed to the addon (flushed in a microtask or when full)
  #flushQueued = false
  #waiting = [] // Packer snapshots that met a full queue, in order; `from` = next record to retry
  #keepAlive = null
  #queued = [] // delivery batches waiting for a later turn (see SETTLE_MS)
  #turnEnd = 0 // when this turn's settling time is up; 0 = no turn under way
  #settleQueued = false
  #closed = false
  #oauthCb = null

  /** Creates a producer from Kafka config keys. Throws KafkaError(ERR__INVALID_ARG) naming a bad key. */
  constructor(config) {
    super()
    const { native: cfg, oauthCb } = splitCallbacks(config)
    this.#oauthCb = oauthCb || null
    this.#native = call(() => new native.NativeProducer(cfg, (batch) => this.#onDelivery(batch), Boolean(oauthCb)))
  }

  /**
   * Sends one record; resolves with its DeliveryReport when the broker
   * acknowledged it. Records sent in one synchronous stretch cross into the
   * addon together (at the latest in a microtask), in order.
   */
  send(record) {
    let rec
    try {
      this.#checkOpen()
      rec = toNativeRecord(record)
    } catch (e) {
      return Promise.reject(e)
    }
    return new Promise((resolve, reject) => {
      const id = this.#track(resolve, reject, rec.topic)
      try {
        this.#add(rec, id)
      } catch (e) {
        this.#fail(id, e)
      }
    })
  }

  /** Sends records together; resolves with their reports, in order. Nothing is sent if one is malformed. */
  sendBatch(records) {
    let recs
    try {
      this.#checkOpen()
      if (!Array.isArray(records)) throw new TypeError('sendBatch takes an array of records')
      recs = records.map(toNativeRecord)
    } catch (e) {
      return Promise.reject(e)
    }
    if (recs.length === 0) return Promise.resolve([])
    // One promise and one entry for the whole batch; it fails with the first failure.
    return new Promise((resolve, reject) => {
      // `topics`: one string when the whole batch goes to one topic (the usual case).
      const topic = recs[0].topic
      const topics = recs.every((r) => r.topic === topic) ? topic : recs.map((r) => r.topic)
      const entry = { topics, first: 0, at: new Float64Array(recs.length * 3), left: recs.length, resolve, reject }
      for (let i = 0; i < recs.length; i++) {
        const id = this.#track(entry)
        if (i === 0) entry.first = id
        this.#add(recs[i], id)
      }
      this.#flush()
    })
  }

  /**
   * Fire-and-forget, as confluent-kafka-python's produce(). Throws KafkaError
   * ERR__QUEUE_FULL when the local queue is full (call flush() or retry later).
   */
  produce(topic, value, key, options = {}) {
    this.#checkOpen()
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
    const { partition, timestamp, headers, onDelivery: cb } = options
    const rec = toNativeRecord({ topic, value, key, partition, timestamp, headers })
    if (cb !== undefined && typeof cb !== 'function') throw new TypeError('options.onDelivery must be a function')
    this.#flush() // earlier send()s go first
    if (this.#waiting.length > 0) {
      // send()s are waiting for room: going ahead of them would reorder records.
      throw new KafkaError('Local: Queue full (earlier send()s are waiting for room): retry after flush()', 'ERR__QUEUE_FULL', { retriable: true })
    }
    const id = this.#track(cb || noop, ON_DELIVERY, topic)
    if (rec.headers == null) {
      try {
        this.#native.produceOne(rec.topic, rec.value ?? null, rec.key ?? null, rec.partition ?? null, rec.timestamp ?? null, id)
      } catch (e) {
        this.#take(id)
        this.#release()
        throw fromNative(e)
      }
      return
    }
    const p = this.#packer
    p.add(rec, id)
    let r
    try {
      r = p.send(this.#native)
    } catch (e) {
      this.#take(id)
      this.#release()
      throw fromNative(e)
    } finally {
      p.reset()
    }
    const failure = r.done === 0 ? 'ERR__QUEUE_FULL' : r.failures.length > 0 ? r.failures[0].error : null
    if (failure !== null) {
      this.#take(id)
      this.#release()
      throw decodeError(failure) || new KafkaError('Local: Queue full: retry after flush()', 'ERR__QUEUE_FULL', { retriable: true })
    }
  }

  /** Waits until every record sent so far is acknowledged (or failed). */
  async flush(timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.#flush()
    const deadline = Date.now() + timeoutMs
    while (this.#waiting.length > 0 && Date.now() < deadline) {
      await callAsync(this.#native.flush(Math.max(1, Math.min(100, deadline - Date.now())))).catch(() => {})
      this.#drainWaiting()
    }
    await callAsync(this.#native.flush(Math.max(0, deadline - Date.now())))
    await this.#settled()
    if (this.#waiting.length > 0) throw new KafkaError(`flush: records still waiting for queue room after ${timeoutMs} ms`, 'ERR__TIMED_OUT', { retriable: true })
  }

  /** Flushes, then releases the producer. Records still undelivered fail with ERR__PURGE_QUEUE. */
  async close(timeoutMs = DEFAULT_TIMEOUT_MS) {
    if (this.#closed) return
    const deadline = Date.now() + timeoutMs // one bound for both waits below
    try {
      await this.flush(timeoutMs)
    } catch {
      // close() reports through the records' own promises
    }
    this.#closed = true
    const err = new KafkaError('producer closed before the record was sent', 'ERR__DESTROY')
    this.#flush()
    this.#failWaiting(err)
    await callAsync(this.#native.close(Math.max(0, deadline - Date.now()))).catch(() => {})
    await this.#settled()
    this.#release()
  }

  /** Transactions (needs `transactional.id`). */
  async initTransactions(timeoutMs = DEFAULT_TIMEOUT_MS) {
    await callAsync(this.#native.initTransactions(timeoutMs))
  }
  beginTransaction() {
    this.#flush()
    call(() => this.#native.beginTransaction())
  }
  async commitTransaction(timeoutMs = DEFAULT_TIMEOUT_MS) {
    await this.flush(timeoutMs)
    await callAsync(this.#native.commitTransaction(timeoutMs))
  }
  async abortTransaction(timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.#flush() // sent records belong to the transaction being aborted
    this.#failWaiting(new KafkaError('the transaction was aborted before the record was sent', 'ERR__PURGE_QUEUE'))
    await callAsync(this.#native.abortTransaction(timeoutMs))
  }
  /**
   * Adds a consumer's processed positions (next offsets to read) to the
   * current transaction; `groupMetadata` comes from `consumer.groupMetadata()`.
   */
  async sendOffsetsToTransaction(offsets, groupMetadata, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const nc = groupMetadata && groupMetadata[NATIVE]
    if (!nc) throw new TypeError('sendOffsetsToTransaction needs consumer.groupMetadata()')
    await callAsync(this.#native.sendOffsetsToTransaction(offsets, nc, timeoutMs))
  }

  #checkOpen() {
    if (this.#closed) throw new KafkaError('the producer is closed', 'ERR__DESTROY')
  }

  /** Registers an in-flight record (see #slots); returns its id. */
  #track(entry, reject = undefined, topic = undefined) {
    if (this.#next - this.#base > this.#mask) this.#makeRoom()
    const id = this.#next++
    const i = id & this.#mask
    this.#slots[i] = entry
    this.#rejects[i] = reject
    this.#topics[i] = topic
    this.#live++
    // Keep Node alive while records are in flight; the delivery callback itself is weak.
    if (this.#keepAlive === null) this.#keepAlive = setInterval(noop, 1 << 30)
    return id
  }

  /**
   * Removes id's record and returns its slot (undefined when already settled);
   * its reject and topic are left in #takenReject/#takenTopic, so that settling
   * allocates nothing per record.
   */
  #take(id) {
    if (id < this.#base) {
      const f = this.#far.get(id)
      if (f === undefined) return undefined
      this.#far.delete(id)
      this.#live--
      this.#takenReject = f[1]
      this.#takenTopic = f[2]
      return f[0]
    }
    if (id >= this.#next) return undefined
    const i = id & this.#mask
    const e = this.#slots[i]
    if (e === undefined) return undefined
    this.#takenReject = this.#rejects[i]
    this.#takenTopic = this.#topics[i]
    this.#slots[i] = undefined
    this.#rejects[i] = undefined
    this.#topics[i] = undefined
    this.#live--
    return e
  }

  /** Moves #base past the settled records at the front of the ring. */
  #compact() {
    const slots = this.#slots
    const m = this.#mask
    let b = this.#base
    while (b < this.#next && slots[b & m] === undefined) b++
    this.#base = b
  }

  /**
   * The ring is full. A few records stuck in flight (e.g. a partition without a
   * leader) must not make it grow for ever: when they are under a quarter of a
   * large ring they move to #far; otherwise the ring doubles.
   */
  #makeRoom() {
    this.#compact()
    if (this.#next - this.#base <= this.#mask) return
    const [slots, rejects, topics, m] = [this.#slots, this.#rejects, this.#topics, this.#mask]
    const size = m + 1
    if (size >= 65536 && (this.#live - this.#far.size) * 4 <= size) {
      for (let id = this.#base; id < this.#next; id++) {
        const i = id & m
        if (slots[i] === undefined) continue
        this.#far.set(id, [slots[i], rejects[i], topics[i]])
        slots[i] = rejects[i] = topics[i] = undefined
      }
      this.#base = this.#next
      return
    }
    const nm = size * 2 - 1
    const [s2, r2, t2] = [0, 0, 0].map(() => new Array(size * 2).fill(undefined))
    for (let id = this.#base; id < this.#next; id++) {
      s2[id & nm] = slots[id & m]
      r2[id & nm] = rejects[id & m]
      t2[id & nm] = topics[id & m]
    }
    this.#slots = s2
    this.#rejects = r2
    this.#topics = t2
    this.#mask = nm
  }

  /** Settles id's promise with a report, or with `err`. */
  #settle(id, err, partition, offset, ts) {
    const e = this.#take(id)
    if (e === undefined) return
    const reject = this.#takenReject
    const topic = this.#takenTopic
    if (typeof e === 'function') {
      // A send() (e resolves its promise) or a produce() (e is its onDelivery).
      if (reject === ON_DELIVERY) {
        if (e !== noop) callback(e, err || null, err ? null : { topic, partition, offset, timestamp: ts >= 0 ? ts : null })
      } else if (err) reject(err)
      else e({ topic, partition, offset, timestamp: ts >= 0 ? ts : null })
      return
    }
    // A sendBatch() member.
    if (e.left === 0) return // the batch already failed
    if (err) {
      e.left = 0
      e.reject(err)
      return
    }
    // Numbers now, report objects once the whole batch is in: objects kept
    // while the rest is in flight would be copied by every young-generation GC.
    const i = id - e.first
    e.at[i * 3] = partition
    e.at[i * 3 + 1] = offset
    e.at[i * 3 + 2] = ts
    if (--e.left === 0) e.resolve(batchReports(e))
  }

  #add(rec, id) {
    const p = this.#packer
    p.add(rec, id)
    if (p.n >= CHUNK_RECORDS || p.pos >= CHUNK_BYTES) this.#flush()
    else if (!this.#flushQueued) {
      this.#flushQueued = true
      queueMicrotask(() => this.#flush())
    }
  }

  /** Hands the packed send()s to the addon; what meets a full queue waits, in order. */
  #flush() {
    this.#flushQueued = false
    const p = this.#packer
    if (p.n === 0) return
    if (this.#waiting.length > 0) {
      this.#waiting.push({ chunk: p.snapshot(), from: 0 })
    } else {
      const done = this.#hand(p, 0)
      if (done < p.n) this.#waiting.push({ chunk: p.snapshot(), from: done })
    }
    p.reset()
  }

  /** One native call for records `from..` of `chunk`; fails refused records; returns how many were handled. */
  #hand(chunk, from) {
    let r
    try {
      r = chunk.send(this.#native, from)
    } catch (e) {
      const err = fromNative(e)
      for (let i = from; i < chunk.n; i++) this.#fail(chunk.id(i), err)
      return chunk.n
    }
    for (const f of r.failures) {
      this.#fail(chunk.id(f.index), decodeError(f.error) || new KafkaError(f.error, 'ERR__FAIL'))
    }
    return r.done
  }

  #failWaiting(err) {
    for (const w of this.#waiting.splice(0)) for (let i = w.from; i < w.chunk.n; i++) this.#fail(w.chunk.id(i), err)
  }

  #drainWaiting() {
    while (this.#waiting.length > 0) {
      const w = this.#waiting[0]
      w.from = this.#hand(w.chunk, w.from)
      if (w.from < w.chunk.n) return
      this.#waiting.shift()
    }
  }

  #fail(id, err) {
    this.#settle(id, err)
    this.#release()
  }

  #release() {
    if (this.#live === 0 && this.#keepAlive !== null) {
      clearInterval(this.#keepAlive)
      this.#keepAlive = null
    }
  }

  #onDelivery(batch) {
    const { ids, failures, logs } = batch
    if (batch.oauthRefresh !== undefined && batch.oauthRefresh !== null) {
      fetchToken(this.#oauthCb, batch.oauthRefresh).then(
        (t) => call(() => this.#native.setOauthToken(t.token, t.lifetimeMs, t.principal, t.extensions || null)),
        (e) => this.#native.setOauthFailure(String((e && e.message) || e))
      ).catch((e) => this.#native.setOauthFailure(String((e && e.message) || e)))
      return
    }
    if (logs.length > 0) {
      if (this.listenerCount('log') > 0) for (const l of logs) this.emit('log', l)
      return
    }
    if (ids.length === 0 && failures.length === 1 && failures[0].index === CLIENT_ERROR) {
      emitClientError(this, failures[0].error)
      return
    }
    // Settling runs user code (promise reactions, onDelivery): SETTLE_MS of
    // it per event-loop turn, then later batches wait, in order.
    if (this.#queued.length > 0 || (this.#turnEnd !== 0 && performance.now() > this.#turnEnd)) {
      this.#queued.push(batch)
      this.#scheduleSettle()
      return
    }
    if (this.#turnEnd === 0) {
      this.#turnEnd = performance.now() + SETTLE_MS
      this.#scheduleSettle()
    }
    this.#settleBatch(batch)
  }

  #scheduleSettle() {
    if (this.#settleQueued) return
    this.#settleQueued = true
    setImmediate(this.#settleLater)
  }

  /** setImmediate's callback: a new turn's share of the queued batches. */
  #settleLater = () => {
    this.#settleQueued = false
    const q = this.#queued
    if (q.length === 0) {
      this.#turnEnd = 0
      return
    }
    this.#turnEnd = performance.now() + SETTLE_MS
    let i = 0
    while (i < q.length) {
      this.#settleBatch(q[i++])
      if (performance.now() > this.#turnEnd) break
    }
    q.splice(0, i)
    this.#scheduleSettle()
  }

  /** Resolves once every queued delivery batch is settled (at the usual pace): flush() and close() promise that much. */
  async #settled() {
    while (this.#queued.length > 0) await new Promise(setImmediate)
  }

  #settleBatch(batch) {
    const { ids, partitions, offsets, timestamps, failures } = batch
    let f = 0
    for (let i = 0; i < ids.length; i++) {
      let err = null
      if (f < failures.length && failures[f].index === i) {
        err = decodeError(failures[f].error) || new KafkaError(failures[f].error, 'ERR__FAIL')
        f++
      }
      this.#settle(ids[i], err, partitions[i], offsets[i], timestamps[i])
    }
    this.#compact()
    this.#drainWaiting()
    this.#release()
  }
}

function noop() {}

/** The DeliveryReports of a completed sendBatch() entry, in order. */
function batchReports(e) {
  const { at, topics } = e
  const n = at.length / 3
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    const ts = at[i * 3 + 2]
    out[i] = { topic: typeof topics === 'string' ? topics : topics[i], partition: at[i * 3], offset: at[i * 3 + 1], timestamp: ts >= 0 ? ts : null }
  }
  return out
}

/** Marks a produce() slot: the slot holds its onDelivery callback (see Producer #slots). */
const ON_DELIVERY = Symbol('onDelivery')

/** Runs a user callback; its throw surfaces as an uncaught exception without breaking the batch. */
function callback(cb, err, report) {
  try {
    cb(err, report)
  } catch (e) {
    queueMicrotask(() => {
      throw e
    })
  }
}

function toRegexTopic(t) {
  if (t instanceof RegExp) return '^' + t.source.replace(/^\^/, '')
  if (typeof t !== 'string' || t.length === 0) throw new TypeError('topics must be non-empty strings or a RegExp')
  return t
}

/**
 * A Buffer view of an ArrayBuffer, built the way Node builds its own (a
 * Uint8Array subclass whose prototype is Buffer.prototype): `Buffer.isBuffer`,
 * `instanceof Buffer` and every Buffer method hold, without Buffer.from's
 * argument checks, which cost ~30 % of a consumed message's two views.
 */
class BufferView extends Uint8Array {}
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype)
Object.defineProperty(BufferView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true })

/** Bytes `start..start+len` of a batch's data as a Buffer view (null when len < 0). */
function view(data, start, len) {
  return len < 0 ? null : new BufferView(data.buffer, data.byteOffset + start, len)
}

/** Header objects of rows first..first+count of a native batch. */
function headersOf(b, first, count) {
  const out = []
  for (let h = first; h < first + count; h++) {
    out.push({ key: b.headerKeys[h], value: view(b.data, b.headerFields[h << 1], b.headerFields[(h << 1) + 1]) })
  }
  return out
}

/**
 * Row i of a native batch as the message object `for await` yields: the
 * per-message hot path. for await builds each one as it hands it out;
 * batches() and RawBatch.message(i) use the same function.
 */
function messageAt(b, i) {
  const { data, fields, nums } = b
  const f = i << 3
  const kl = fields[f + 3]
  const vl = fields[f + 5]
  const hc = fields[f + 7]
  const ts = nums[(i << 1) + 1]
  return {
    topic: b.topics[fields[f]],
    partition: fields[f + 1],
    offset: nums[i << 1],
    key: view(data, fields[f + 2], kl),
    value: view(data, fields[f + 4], vl),
    headers: hc === 0 ? [] : headersOf(b, fields[f + 6], hc),
    timestamp: ts === ts ? ts : null,
  }
}

/** Every row of a native batch as message objects. */
function toMessages(b) {
  const n = b.nums.length >> 1
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = messageAt(b, i)
  return out
}

/**
 * A consumed batch in columns, as it crossed from Rust: one Buffer holding every
 * key and value, plus typed arrays of positions. Reading it allocates nothing per
 * message unless you ask for a key, value or header Buffer (`key(i)`, `value(i)`,
 * `headers(i)`, `message(i)`), which are views into `data`.
 */
class RawBatch {
  #b
  constructor(b) {
    this.#b = b
    /** Number of messages. */
    this.length = b.nums.length >> 1
    /** Every key, value and header value, back to back. */
    this.data = b.data
  }
  topic(i) {
    return this.#b.topics[this.#b.fields[i << 3]]
  }
  partition(i) {
    return this.#b.fields[(i << 3) + 1]
  }
  offset(i) {
    return this.#b.nums[i << 1]
  }
  /** ms since the epoch, null when unknown. */
  timestamp(i) {
    const t = this.#b.nums[(i << 1) + 1]
    return t === t ? t : null
  }
  /** Where message i's key starts in `data`. */
  keyStart(i) {
    return this.#b.fields[(i << 3) + 2]
  }
  /** Length of message i's key; -1 when it has none. */
  keyLength(i) {
    return this.#b.fields[(i << 3) + 3]
  }
  /** Where message i's value starts in `data`. */
  valueStart(i) {
    return this.#b.fields[(i << 3) + 4]
  }
  /** Length of message i's value; -1 for a tombstone. */
  valueLength(i) {
    return this.#b.fields[(i << 3) + 5]
  }
  /** Number of headers of message i. */
  headerCount(i) {
    return this.#b.fields[(i << 3) + 7]
  }
  key(i) {
    return view(this.data, this.keyStart(i), this.keyLength(i))
  }
  value(i) {
    return view(this.data, this.valueStart(i), this.valueLength(i))
  }
  headers(i) {
    return headersOf(this.#b, this.#b.fields[(i << 3) + 6], this.headerCount(i))
  }
  /** Message i as the object `for await` yields. */
  message(i) {
    return messageAt(this.#b, i)
  }
  /** Every message as objects (what `batches()` yields). */
  messages() {
    return toMessages(this.#b)
  }
  /** The native columns (for krafka.js only). */
  get [NATIVE]() {
    return this.#b
  }
}

class Consumer extends EventEmitter {
  #native
  #closed = false // no more polling (close() started)
  #released = false // the member is gone: nothing left to store or commit
  #closing = null
  #processed = new Map() // "topic\0partition" -> { topic, partition, offset(next), stored }
  #unstored = 0 // #processed entries with stored === false
  #pending = null // { b: native batch, n: rows processed, flushed: rows already in #processed }
  // Read-ahead (iterators only): the next batch is fetched while the loop
  // bodies of the current one run. Rebalance events that arrive meanwhile wait
  // in #deferred until the current batch is done, as they would without it.
  #ahead = null // Promise of the next polled batch (the addon marks it stale if positions changed since)
  #holding = false // an iterator's batch is being processed
  #deferred = []
  #handed = 0 // poll number of the last batch handed out (see #onEvent)
  #seeked = new Map() // "topic\0partition" -> seek() target since the last batch handed out
  #rewound = new Set() // partitions already put back since then (see #rewind)
  #hooks = {}
  #oauthCb = null

  /** Creates a consumer from Kafka config keys (`group.id` needed for subscribe()). */
  constructor(config) {
    super()
    const { native: cfg, oauthCb } = splitCallbacks(config)
    this.#oauthCb = oauthCb || null
    this.#native = call(() => new native.NativeConsumer(cfg, (ev) => this.#onEvent(ev), Boolean(oauthCb)))
  }

  /**
   * Joins the group for these topics (a RegExp subscribes by pattern).
   * Optional hooks, as confluent-kafka-python's on_assign/on_revoke/on_lost:
   * each gets the partitions and may return a Promise; the rebalance waits
   * for it, so `onRevoke` can `await consumer.commit()` first.
   */
  subscribe(topics, hooks = {}) {
    this.#checkOpen()
    const list = topics instanceof RegExp ? [topics] : topics
    if (!Array.isArray(list)) throw new TypeError('subscribe takes an array of topic names or a RegExp')
    for (const name of ['onAssign', 'onRevoke', 'onLost']) {
      if (hooks[name] !== undefined && typeof hooks[name] !== 'function') throw new TypeError(`hooks.${name} must be a function`)
    }
    call(() => this.#native.subscribe(list.map(toRegexTopic)))
    this.#hooks = { ...hooks }
    this.#native.setRebalanceHooks(Boolean(hooks.onAssign || hooks.onRevoke || hooks.onLost))
  }

  /** Manual assignment: [{ topic, partition, offset? }]. */
  assign(partitions) {
    call(() => this.#native.assign(partitions))
    this.#positionsChanged()
  }

  /** Current assignment. */
  assignment() {
    return call(() => this.#native.assignment())
  }

  /**
   * Up to `numMessages` messages, waiting at most `timeoutMs` for the first,
   * as confluent-kafka-python's consume(). Calling it again marks the previous
   * result as processed (its offsets are stored for the next commit).
   */
  async consume(numMessages = 1, timeoutMs = 1000) {
    const raw = await this.#poll(numMessages, timeoutMs)
    this.#track(raw, raw.length)
    return raw.messages()
  }

  /** Async iterable of message arrays: one native crossing per batch. */
  async *batches({ maxMessages = 2000, maxWaitMs = 100, signal } = {}) {
    for await (const raw of this.rawBatches({ maxMessages, maxWaitMs, signal })) yield raw.messages()
  }

  /**
   * Async iterable of `RawBatch`es: the fastest way to consume. No object or
   * Buffer is made per message unless asked for; offsets of a batch are stored
   * once the loop body that received it finished.
   */
  async *rawBatches({ maxMessages = 10000, maxWaitMs = 100, signal } = {}) {
    try {
      while (!this.#closed && !(signal && signal.aborted)) {
        const raw = await this.#poll(maxMessages, maxWaitMs, true)
        if (raw.length === 0) continue
        yield raw
        this.#track(raw, raw.length)
      }
    } finally {
      await this.close()
    }
  }

  /**
   * Async iterable of single messages. A message's offset is stored only
   * after the loop body that received it finished (at-least-once); `break`,
   * `return`, a throw or `signal` closes the consumer and leaves the group.
   * A hand-written iterator, not an async generator: half the cost per message.
   * Each message object is built when it is handed out, not a batch at a
   * time, so one that the loop body drops dies young and the scavenger never
   * copies a batch's worth of live objects.
   */
  messages({ maxMessages = 2000, maxWaitMs = 100, signal } = {}) {
    let cols = null // the native columns of the current batch
    let count = 0
    let raw = null
    let i = 0
    let pending = null // this.#pending of the current batch
    let turnEnd = 0 // when this event-loop turn has had its share (see next())
    let ended = null
    let busy = null
    const end = () => {
      if (!ended) ended = this.close().then(() => ({ value: undefined, done: true }))
      return ended
    }
    const fill = async () => {
      try {
        while (!this.#closed && !(signal && signal.aborted)) {
          const got = await this.#poll(maxMessages, maxWaitMs, true)
          if (got.length === 0) continue
          raw = got
          cols = raw[NATIVE]
          count = raw.length
          pending = this.#track(raw, 0)
          i = 1
          turnEnd = performance.now() + TURN_MS
          return { value: messageAt(cols, 0), done: false }
        }
      } catch (e) {
        await end().catch(() => {})
        throw e
      }
      return end()
    }
    const it = {
      next: () => {
        if (busy) return busy.then(() => it.next())
        if (ended) return ended
        if (pending !== null && !this.#closed) {
          // The loop body of message i - 1 finished. (If consume() or another
          // iterator replaced the record meanwhile, #track makes it current again.)
          if (pending === this.#pending) pending.n = i
          else pending = this.#track(raw, i)
        }
        if (this.#closed || (signal && signal.aborted)) return end()
        if (i < count) {
          const value = messageAt(cols, i++)
          // Loop bodies run as microtasks: without a break, a whole batch would
          // hold the event loop. Every TURN_MS, the next message waits one turn.
          if ((i & 127) === 0 && performance.now() > turnEnd) {
            return new Promise((resolve) =>
              setImmediate(() => {
                turnEnd = performance.now() + TURN_MS
                resolve({ value, done: false })
              })
            )
          }
          return Promise.resolve({ value, done: false })
        }
        busy = fill().finally(() => (busy = null))
        return busy
      },
      return: () => end(),
      throw: (e) => end().then(() => Promise.reject(e)),
      [Symbol.asyncIterator]: () => it,
    }
    return it
  }

  [Symbol.asyncIterator]() {
    return this.messages()
  }

  /**
   * Commits: all processed offsets (no argument), one message's position
   * (`commit(msg)` commits msg.offset + 1), or explicit next-offsets
   * `[{ topic, partition, offset }]`. Resolves when the broker has stored them.
   */
  async commit(what) {
    if (what === undefined) {
      this.#storeProcessed()
      return callAsync(this.#native.commit(null))
    }
    const list = Array.isArray(what)
      ? what
      : [{ topic: what.topic, partition: what.partition, offset: what.offset + 1 }]
    return callAsync(this.#native.commit(list))
  }

  /** Opaque group metadata for `producer.sendOffsetsToTransaction()`. */
  groupMetadata() {
    this.#checkOpen()
    return Object.freeze({ [NATIVE]: this.#native })
  }

  /** Moves fetch positions: [{ topic, partition, offset }] (offset omitted = beginning). */
  async seek(partitions, timeoutMs = 10000) {
    this.#checkOpen()
    for (const p of partitions) this.#seeked.set(p.topic + '\0' + p.partition, p.offset)
    this.#positionsChanged()
    return callAsync(this.#native.seek(partitions, timeoutMs))
  }

  /** Stops fetching from these partitions until resume(). */
  pause(partitions) {
    call(() => this.#native.pause(partitions))
    this.#positionsChanged()
  }

  /** Resumes fetching from paused partitions. */
  resume(partitions) {
    call(() => this.#native.resume(partitions))
    this.#positionsChanged()
  }

  /** Fetch positions (next offset to hand out) of the assigned partitions, or of `partitions` only. */
  position(partitions) {
    const all = call(() => this.#native.position())
    if (!partitions) return all
    return partitions.map(
      (p) => all.find((a) => a.topic === p.topic && a.partition === p.partition) || { topic: p.topic, partition: p.partition, offset: null }
    )
  }

  /** The group's committed offsets for these partitions. */
  async committed(partitions, timeoutMs = 10000) {
    return callAsync(this.#native.committed(partitions, timeoutMs))
  }

  /** { low, high } watermarks of a partition. */
  async queryWatermarkOffsets(topic, partition, timeoutMs = 10000) {
    return callAsync(this.#native.queryWatermarkOffsets(topic, partition, timeoutMs))
  }

  /** Stores processed offsets, leaves the group (committing when auto-commit is on) and releases the member. Idempotent. */
  close() {
    if (this.#closing) return this.#closing
    this.#closing = (async () => {
      this.#holding = false
      this.#runDeferred(true)
      try {
        this.#storeProcessed()
      } catch {
        // partitions may already be revoked; nothing to store then
      }
      this.#closed = true
      this.#pending = null
      this.#ahead = null // read ahead, never handed out: not stored, so fetched again by whoever owns it next
      try {
        await callAsync(this.#native.close())
      } finally {
        this.#released = true
      }
    })()
    return this.#closing
  }

  #checkOpen() {
    if (this.#closed) throw new KafkaError('the consumer is closed', 'ERR__DESTROY')
  }

  #onEvent(ev) {
    if (ev.kind === 'error') {
      emitClientError(this, ev.error)
      return
    }
    if (ev.kind === 'log') {
      if (this.listenerCount('log') > 0) this.emit('log', ev.log)
      return
    }
    if (ev.kind === 'oauth') {
      fetchToken(this.#oauthCb, ev.oauthConfig).then(
        (t) => this.#native.oauthDone(ev.seq, t.token, t.lifetimeMs, t.principal, null),
        (e) => this.#native.oauthDone(ev.seq, null, null, null, String((e && e.message) || e))
      )
      return
    }
    // A rebalance waits while a batch is being processed, and while a batch
    // filled before it (a poll numbered lower than the rebalance's) is still
    // to be handed out: read-ahead must not show a message of a revoked
    // partition after onRevoke.
    if (!this.#closed && (this.#holding || ev.poll > this.#handed + 1)) {
      this.#deferred.push(ev)
      return
    }
    this.#rebalance(ev)
  }

  /** Runs the rebalance events whose turn has come (all of them when closing). */
  #runDeferred(all = false) {
    if (this.#deferred.length === 0) return
    const evs = this.#deferred
    this.#deferred = []
    for (const ev of evs) {
      if (all || ev.poll <= this.#handed + 1) this.#rebalance(ev)
      else this.#deferred.push(ev)
    }
  }

  #rebalance(ev) {
    const parts = ev.partitions
    if (ev.kind === 'lost') {
      // Another member may own these already: their offsets must not be committed.
      this.#flushPending()
      this.#forget(parts)
    } else if (ev.kind === 'revoked') {
      try {
        this.#storeProcessed()
      } catch {
        // nothing stored is not fatal for a revocation
      }
      this.#forget(parts)
    }
    const hook = { assigned: this.#hooks.onAssign, revoked: this.#hooks.onRevoke, lost: this.#hooks.onLost }[ev.kind]
    Promise.resolve()
      .then(() => hook && hook(parts))
      .catch((e) => queueMicrotask(() => {
        throw e
      }))
      .finally(() => this.#native.rebalanceDone(ev.seq))
  }

  /**
   * The next batch. `ahead` (the iterators): also start fetching the one after
   * it, to overlap with the loop bodies; an iterator calls #poll again only
   * when every body of the batch it holds has finished.
   */
  async #poll(max, waitMs, ahead = false) {
    this.#holding = false
    this.#runDeferred()
    this.#storeProcessed()
    let polled = this.#ahead
    this.#ahead = null
    let got
    try {
      // With `ahead`, the addon also chains: the poll after this one starts as
      // soon as this one is done (see pollBatch in crates/krafka-node).
      for (;;) {
        got = this.#native.openBatch(await callAsync(polled ?? this.#native.pollBatch(max, waitMs, ahead)))
        if (!got.stale) break
        await this.#rewind(got)
        polled = null
      }
    } catch (e) {
      // A failed poll chains nothing, so no batch is left to wait for.
      this.#handed = Infinity
      this.#runDeferred()
      throw e
    }
    this.#handed = got.poll
    // Only when there is something to clear: clear() allocates a new table
    // each time, and one per batch is garbage every young GC has to copy.
    if (this.#seeked.size > 0) this.#seeked.clear()
    if (this.#rewound.size > 0) this.#rewound.clear()
    if (ahead && !this.#closed && got.nums.length > 0) {
      const p = this.#native.pollBatch(max, waitMs, true)
      p.catch(noop) // its error, if any, surfaces when it is taken
      this.#ahead = p
      this.#holding = true
    }
    return new RawBatch(got)
  }

  /** seek()/pause()/resume()/assign(): a batch already read ahead must not be handed out (see #rewind). */
  #positionsChanged() {
    this.#native.positionsChanged()
  }

  /**
   * A batch read ahead before seek()/pause()/resume()/assign() is not handed
   * out: each of its partitions is moved back to its first row (or to the
   * offset seek() asked for), so nothing in it is skipped or comes early.
   * With two such batches, the earlier one's first rows win (#rewound).
   */
  async #rewind(b) {
    const seeked = this.#seeked
    const { fields, nums, topics } = b
    const to = new Map()
    for (let i = 0, n = nums.length >> 1; i < n; i++) {
      const topic = topics[fields[i << 3]]
      const partition = fields[(i << 3) + 1]
      const k = topic + '\0' + partition
      if (this.#rewound.has(k) || to.has(k)) continue
      this.#rewound.add(k)
      to.set(k, { topic, partition, offset: seeked.has(k) ? seeked.get(k) : nums[i << 1] })
    }
    const owned = new Set(this.assignment().map((p) => p.topic + '\0' + p.partition))
    const list = [...to].filter(([k]) => owned.has(k)).map(([, p]) => p)
    if (list.length > 0) await callAsync(this.#native.seek(list, 10000))
  }

  /**
   * The first `n` messages of `raw` are processed. Cheap: nothing per message
   * until stored. Returns the batch's pending record; iterators advance its `n`.
   */
  #track(raw, n) {
    const b = raw[NATIVE]
    if (!this.#pending || this.#pending.b !== b) {
      this.#flushPending()
      this.#pending = { b, n, flushed: 0 }
    } else {
      this.#pending.n = n
    }
    return this.#pending
  }

  /** Moves processed rows into #processed: one entry per run of one partition, not per message. */
  #flushPending() {
    const p = this.#pending
    if (!p || p.flushed === p.n) return
    const { fields, nums, topics } = p.b
    for (let i = p.flushed; i < p.n; i++) {
      const ti = fields[i << 3]
      const pi = fields[(i << 3) + 1]
      if (i + 1 === p.n || fields[(i + 1) << 3] !== ti || fields[((i + 1) << 3) + 1] !== pi) {
        const topic = topics[ti]
        const key = topic + '\0' + pi
        const e = this.#processed.get(key)
        // Entries are updated in place, not replaced: one object per owned
        // partition (see #forget), not one per batch.
        if (e === undefined) {
          this.#processed.set(key, { topic, partition: pi, offset: nums[i << 1] + 1, stored: false })
          this.#unstored++
        } else {
          e.offset = nums[i << 1] + 1
          if (e.stored) {
            e.stored = false
            this.#unstored++
          }
        }
      }
    }
    p.flushed = p.n
  }

  /** Drops the #processed entries of partitions this member no longer owns. */
  #forget(parts) {
    for (const p of parts) {
      const key = p.topic + '\0' + p.partition
      const e = this.#processed.get(key)
      if (e === undefined) continue
      if (!e.stored) this.#unstored--
      this.#processed.delete(key)
    }
  }

  #storeProcessed() {
    this.#flushPending()
    if (this.#unstored === 0 || this.#released) return
    const offsets = []
    for (const e of this.#processed.values()) {
      if (e.stored) continue
      e.stored = true
      offsets.push(e)
    }
    this.#unstored = 0
    call(() => this.#native.storeOffsets(offsets))
  }
}

class Admin {
  #native
  /** Creates an admin client from Kafka config keys. */
  constructor(config) {
    this.#native = call(() => new native.NativeAdmin(splitCallbacks(config).native))
  }
  /** Creates topics: [{ topic, numPartitions?, replicationFactor?, config? }]. */
  async createTopics(topics, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return callAsync(this.#native.createTopics(topics, timeoutMs))
  }
  /** Deletes topics by name. */
  async deleteTopics(topics, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return callAsync(this.#native.deleteTopics(topics, timeoutMs))
  }
  /** { topic: partitionCount } from a metadata request. */
  async partitionCounts(topic, timeoutMs = 10000) {
    return callAsync(this.#native.partitionCounts(topic ?? null, timeoutMs))
  }
  /** Nothing to release beyond garbage collection; present for symmetry. */
  async close() {}
}

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

const features = native.builtinFeatures()
const librdkafkaVersion = native.librdkafkaVersion()
const MockCluster = native.MockCluster

module.exports = {
  checkKerberos,
  parseProperties,
  Producer,
  Consumer,
  Admin,
  KafkaError,
  MockCluster,
  RawBatch,
  features,
  librdkafkaVersion,
}
