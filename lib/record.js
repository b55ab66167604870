'use strict'
// Records to produce: their checks, and the packed layout in which they
// cross into the addon.

// Node 20 serves the global `Buffer` through a getter: a module binding is cheaper per message.
const { Buffer } = require('node:buffer')

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

module.exports = { toNativeRecord, Packer, CHUNK_RECORDS, CHUNK_BYTES }
