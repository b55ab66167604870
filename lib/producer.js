'use strict'
// The producer: send(), sendBatch(), produce(), and delivery reports
// settled in batches from one native callback.

const { EventEmitter } = require('node:events')
// Node 20 serves the global `Buffer` through a getter: a module binding is cheaper per call.
const { Buffer } = require('node:buffer')
const { performance } = require('node:perf_hooks')
const { native, DEFAULT_TIMEOUT_MS, NATIVE, noop, emitStats } = require('./client')
const { KafkaError, decodeError, fromNative, call, callAsync, emitClientError } = require('./error')
const { splitCallbacks, fetchToken } = require('./config')
const { toNativeRecord, Packer, checkRaw, RawChunk, CHUNK_RECORDS, CHUNK_BYTES } = require('./record')
const promises = require('./promises')

/**
 * How long delivery reports are settled in one event-loop turn; later reports
 * wait for the next turn. Node runs up to 1,000 queued delivery calls back to
 * back, so only a time bound on the JS side gives timers their turn.
 */
const SETTLE_MS = 1

/**
 * How many send()s in flight get a promise made here; those past it get one
 * the addon made (lib/promises.js). Made here, a promise with its resolve is
 * about 160 bytes for every young-generation GC to copy until its record is
 * acknowledged; the addon's is about 46 but costs some 220 ns more to make and
 * settle, so it pays only when many are in flight. With 50,000 in flight they
 * cut send()'s event-loop p99 from 8-12 to 6-9 ms at a slightly higher rate;
 * up to 20,000 (README's advice) nothing changes (bench/README.md, "What a
 * promise per record costs").
 */
const JS_PROMISES = 20000

class Producer extends EventEmitter {
  #native
  // Records in flight, by id, in a ring: id's slot is `id & #mask`. For send(),
  // the slot is its promise's resolve function (a failure resolves it with a
  // rejected promise) or, for a promise the addon made, that promise's number
  // (lib/promises.js), with its topic in the parallel array; for produce(), its
  // onDelivery (or noop), marked ON_DELIVERY in #marks. A sendBatch() or
  // sendRaw() takes a range of ids instead (#entries), with nothing per record.
  // Fixed arrays, not a Map, no object per send() and no array that grows and
  // shifts: objects or fresh arrays alive while records are in flight make
  // every young-generation GC copy them (the event-loop delay of scenario 5).
  #slots = new Array(1024).fill(undefined)
  #marks = new Array(1024).fill(undefined)
  #topics = new Array(1024).fill(undefined)
  #mask = 1023
  #next = 1 // id of the next record
  #far = new Map() // id -> [slot, mark, topic] for stragglers moved out of the ring
  #takenMark = undefined // see #take
  #takenTopic = undefined
  #base = 1 // ids below it are settled or in #far
  #live = 0 // records in flight: in the ring, in #far and in #entries
  #jsPromises = 0 // send()s in flight whose promise was made here (see JS_PROMISES)
  // Open sendBatch()/sendRaw() entries, by first id: { first, n, pending, left, at, ... }.
  #entries = []
  #inEntries = 0 // their records not yet settled
  #lastEntry = null // the entry #entryOf found last (reports come in runs)
  #packer = new Packer() // send()s not yet handed to the addon (flushed in a microtask or when full)
  #rawChunk = new RawChunk() // sendRaw()'s columns, a chunk at a time
  #flushQueued = false
  #waiting = [] // Packer snapshots that met a full queue, in order; `from` = next record to retry
  #keepAlive = null
  #queued = [] // delivery batches waiting for a later turn (see SETTLE_MS)
  #turnEnd = 0 // when this turn's settling time is up; 0 = no turn under way
  #settleQueued = false
  #closed = false
  #oauthCb = null
  #handle = 0 // this producer's number for native.produceOne
  #topicIds = new Map() // topic name -> its number for native.produceOne

  /** Creates a producer from Kafka config keys. Throws KafkaError(ERR__INVALID_ARG) naming a bad key. */
  constructor(config) {
    super()
    const { native: cfg, oauthCb } = splitCallbacks(config)
    this.#oauthCb = oauthCb || null
    this.#native = call(() => new native.NativeProducer(cfg, (batch) => this.#onDelivery(batch), Boolean(oauthCb)))
    this.#handle = this.#native.handle()
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
    // Up to JS_PROMISES in flight, a promise made here (the cheapest to make
    // and settle); beyond, one the addon made (the cheapest for the GC).
    let promise
    let id
    if (this.#jsPromises < JS_PROMISES) {
      promise = new Promise(takeResolve)
      id = this.#track(taken, undefined, rec.topic)
      taken = undefined
      this.#jsPromises++
    } else {
      promise = promises.take()
      id = this.#track(promises.taken.number, undefined, rec.topic)
    }
    try {
      this.#add(rec, id)
    } catch (e) {
      this.#settle(id, e)
      this.#failed()
    }
    return promise
  }

  /** Sends records together; resolves with their reports, in order. Nothing is sent if one is malformed. */
  sendBatch(records) {
    let recs = records
    let topics
    try {
      this.#checkOpen()
      if (!Array.isArray(records)) throw new TypeError('sendBatch takes an array of records')
      // Checked in one pass, without a new array unless a record needs
      // converting; `topics` is one string when the whole batch goes to one
      // topic (the usual case).
      for (let i = 0; i < records.length; i++) {
        const r = toNativeRecord(records[i])
        if (r !== records[i]) {
          if (recs === records) recs = records.slice()
          recs[i] = r
        }
        if (i === 0) topics = r.topic
        else if (typeof topics !== 'string') topics.push(r.topic)
        else if (r.topic !== topics) {
          topics = new Array(i).fill(topics) // records 0..i-1 all went to that one
          topics.push(r.topic)
        }
      }
    } catch (e) {
      return Promise.reject(e)
    }
    if (recs.length === 0) return Promise.resolve([])
    // One promise and one entry for the whole batch; it fails with the first failure.
    return new Promise((resolve, reject) => {
      const entry = batchEntry(topics, recs.length, resolve, reject, false)
      entry.first = this.#trackRange(entry)
      for (let i = 0; i < recs.length; i++) this.#add(recs[i], entry.first + i)
      this.#flush()
    })
  }

  /**
   * Sends records laid out as columns (RawRecords) to one topic, with no
   * object per record on the way in or out: the mirror of the consumer's
   * rawBatches(). Resolves with RawReports; rejects with the first failure.
   * librdkafka copies the bytes before sendRaw() returns (records that wait
   * for queue room are copied then), so `data` may be reused at once.
   */
  sendRaw(records) {
    let raw
    try {
      this.#checkOpen()
      raw = checkRaw(records)
    } catch (e) {
      return Promise.reject(e)
    }
    const n = raw.n
    if (n === 0) return Promise.resolve(new RawReports(raw.topic, new Float64Array(0)))
    return new Promise((resolve, reject) => {
      const entry = batchEntry(raw.topic, n, resolve, reject, true)
      entry.first = this.#trackRange(entry)
      this.#flush() // earlier send()s go first
      const chunk = this.#rawChunk
      for (let from = 0; from < n; from += CHUNK_RECORDS) {
        chunk.select(raw, from, Math.min(n, from + CHUNK_RECORDS), entry.first)
        this.#handOrWait(chunk)
      }
      chunk.release()
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
    // Without headers a record crosses alone, with numbers for its producer
    // and topic (see produceOne); the topic's name crosses once.
    let t = -1
    if (rec.headers == null) {
      t = this.#topicIds.get(rec.topic)
      if (t === undefined) {
        t = call(() => this.#native.topicId(rec.topic))
        this.#topicIds.set(rec.topic, t)
      }
    }
    const id = this.#track(cb || noop, ON_DELIVERY, topic)
    if (t >= 0) {
      try {
        native.produceOne(this.#handle, t, bytesOrNull(rec.value), bytesOrNull(rec.key), rec.partition ?? -1, rec.timestamp ?? -1, id)
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

  /** Registers an in-flight record in the ring (see #slots); returns its id. */
  #track(entry, mark = undefined, topic = undefined) {
    while (this.#next - this.#base > this.#mask) this.#makeRoom(1)
    const id = this.#next++
    const i = id & this.#mask
    this.#slots[i] = entry
    this.#marks[i] = mark
    this.#topics[i] = topic
    this.#live++
    this.#keepAliveOn()
    return id
  }

  /**
   * Registers a sendBatch()/sendRaw() entry's `entry.n` records as one range
   * of ids; returns the first. Nothing is written per record (settling finds
   * the entry by id, #entryOf).
   */
  #trackRange(entry) {
    const n = entry.n
    if (this.#inRing() === 0) {
      // No record in the ring: no slot there that these ids could alias.
      this.#base = this.#next + n
    } else {
      // Ring records stay within one ring's span of ids (so no two share a slot).
      while (this.#next + n - 1 - this.#base > this.#mask) this.#makeRoom(n)
    }
    const first = this.#next
    this.#next = first + n
    this.#entries.push(entry)
    this.#live += n
    this.#inEntries += n
    this.#keepAliveOn()
    return first
  }

  /** Records in flight in the ring (not in #far, not in an entry's range). */
  #inRing() {
    return this.#live - this.#inEntries - this.#far.size
  }

  /** Keeps Node alive while records are in flight; the delivery callback itself is weak. */
  #keepAliveOn() {
    if (this.#keepAlive === null) this.#keepAlive = setInterval(noop, 1 << 30)
  }

  /** The open entry whose range holds `id`, or undefined. */
  #entryOf(id) {
    let e = this.#lastEntry
    if (e !== null && id >= e.first && id < e.first + e.n) return e
    const es = this.#entries
    let lo = 0
    let hi = es.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      e = es[mid]
      if (id < e.first) hi = mid - 1
      else if (id >= e.first + e.n) lo = mid + 1
      else {
        this.#lastEntry = e
        return e
      }
    }
    return undefined
  }

  /** `k` of entry e's records are settled; an entry with none left is closed. */
  #settledIn(e, k) {
    e.pending -= k
    this.#live -= k
    this.#inEntries -= k
    if (e.pending > 0) return
    const es = this.#entries
    if (es[0] === e) es.shift()
    else es.splice(es.indexOf(e), 1)
    if (this.#lastEntry === e) this.#lastEntry = null
  }

  /**
   * Removes id's record and returns its slot (undefined when already settled);
   * its mark and topic are left in #takenMark/#takenTopic, so that settling
   * allocates nothing per record.
   */
  #take(id) {
    if (id < this.#base) {
      const f = this.#far.get(id)
      if (f === undefined) return undefined
      this.#far.delete(id)
      this.#live--
      this.#takenMark = f[1]
      this.#takenTopic = f[2]
      return f[0]
    }
    if (id >= this.#next) return undefined
    const i = id & this.#mask
    const e = this.#slots[i]
    if (e === undefined) return undefined
    this.#takenMark = this.#marks[i]
    this.#takenTopic = this.#topics[i]
    this.#slots[i] = undefined
    this.#marks[i] = undefined
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
   * large ring they move to #far; otherwise the ring doubles (as often as it
   * takes to fit `room` more ids).
   */
  #makeRoom(room = 1) {
    this.#compact()
    if (this.#next + room - 1 - this.#base <= this.#mask) return
    const [slots, marks, topics, m] = [this.#slots, this.#marks, this.#topics, this.#mask]
    const size = m + 1
    if (size >= 65536 && (this.#inRing()) * 4 <= size && room <= size) {
      for (let id = this.#base; id < this.#next; id++) {
        const i = id & m
        if (slots[i] === undefined) continue
        this.#far.set(id, [slots[i], marks[i], topics[i]])
        slots[i] = marks[i] = topics[i] = undefined
      }
      this.#base = this.#next
      return
    }
    const nm = size * 2 - 1
    const [s2, k2, t2] = [0, 0, 0].map(() => new Array(size * 2).fill(undefined))
    for (let id = this.#base; id < this.#next; id++) {
      s2[id & nm] = slots[id & m]
      k2[id & nm] = marks[id & m]
      t2[id & nm] = topics[id & m]
    }
    this.#slots = s2
    this.#marks = k2
    this.#topics = t2
    this.#mask = nm
  }

  /** Settles id's promise with a report, or with `err`. */
  #settle(id, err, partition, offset, ts) {
    const b = this.#inEntries > 0 ? this.#entryOf(id) : undefined
    if (b !== undefined) {
      // A sendBatch()/sendRaw() member.
      this.#settledIn(b, 1)
      if (b.left === 0) return // the batch already failed
      if (err) {
        b.left = 0
        promises.flush()
        b.reject(err)
        return
      }
      // Numbers now, report objects once the whole batch is in: objects kept
      // while the rest is in flight would be copied by every young-generation GC.
      const i = id - b.first
      b.at[i * 3] = partition
      b.at[i * 3 + 1] = offset
      b.at[i * 3 + 2] = ts
      if (--b.left === 0) {
        promises.flush()
        b.resolve(reportsOf(b))
      }
      return
    }
    const e = this.#take(id)
    if (e === undefined) return
    const mark = this.#takenMark
    const topic = this.#takenTopic
    // A produce() (e is its onDelivery) or a send(): e resolves its promise,
    // or is the number of a promise the addon made.
    if (mark === ON_DELIVERY && e === noop) return
    const report = err ? null : { topic, partition, offset, timestamp: ts >= 0 ? ts : null }
    if (mark === ON_DELIVERY) callback(e, err || null, report)
    else if (typeof e === 'number') {
      if (err) promises.reject(e, err) // queued like a resolution: settled in report order at the next flush
      else promises.resolve(e, report)
    } else {
      this.#jsPromises--
      promises.flush() // the addon's queued before it go first: promises settle in report order
      e(err ? Promise.reject(err) : report)
    }
  }

  /**
   * Settles delivered records i.. of `batch` in one step while they are
   * consecutive members of one sendBatch()/sendRaw() (librdkafka acknowledges
   * a partition's records in order, so runs are long): per record only its
   * three numbers. Returns the index after the run, or i when record i is
   * not an entry's.
   */
  #settleRun(batch, i, stop) {
    if (this.#inEntries === 0) return i
    const { ids, partitions, offsets, timestamps } = batch
    let id = ids[i]
    const e = this.#entryOf(id)
    if (e === undefined) return i
    const end = Math.min(stop, i + (e.first + e.n - id))
    let j = i
    if (e.left > 0) {
      const at = e.at
      // Small integers for the indexes: ids are doubles (they outgrow int32).
      let o = (id - e.first) * 3
      while (j < end && ids[j] === id) {
        at[o] = partitions[j]
        at[o + 1] = offsets[j]
        at[o + 2] = timestamps[j]
        j++
        id++
        o += 3
      }
      e.left -= j - i
      if (e.left === 0) {
        promises.flush()
        e.resolve(reportsOf(e))
      }
    } else {
      while (j < end && ids[j] === id) {
        j++
        id++
      }
    }
    this.#settledIn(e, j - i)
    return j
  }

  #add(rec, id) {
    const p = this.#packer
    p.add(rec, id)
    if (p.n >= CHUNK_RECORDS || p.pos >= CHUNK_BYTES) this.#flush()
    else if (!this.#flushQueued) {
      this.#flushQueued = true
      queueMicrotask(this.#flushLater)
    }
  }

  /**
   * #add's microtask. A closure made inside #add would make V8 allocate a
   * context for `this` on every call of #add, i.e. per record (40 bytes).
   */
  #flushLater = () => this.#flush()

  /** Hands the packed send()s to the addon; what meets a full queue waits, in order. */
  #flush() {
    this.#flushQueued = false
    const p = this.#packer
    if (p.n === 0) return
    this.#handOrWait(p)
    p.reset()
  }

  /** Hands a chunk to the addon, or a copy of what meets a full queue to #waiting, behind what waits already. */
  #handOrWait(chunk) {
    const done = this.#waiting.length > 0 ? 0 : this.#hand(chunk, 0)
    if (done < chunk.n) this.#waiting.push({ chunk: chunk.snapshot(), from: done })
  }

  /** One native call for records `from..` of `chunk`; fails refused records; returns how many were handled. */
  #hand(chunk, from) {
    let r
    try {
      r = chunk.send(this.#native, from)
    } catch (e) {
      const err = fromNative(e)
      for (let i = from; i < chunk.n; i++) this.#settle(chunk.id(i), err)
      this.#failed()
      return chunk.n
    }
    for (const f of r.failures) {
      this.#settle(chunk.id(f.index), decodeError(f.error) || new KafkaError(f.error, 'ERR__FAIL'))
    }
    if (r.failures.length > 0) this.#failed()
    return r.done
  }

  #failWaiting(err) {
    for (const w of this.#waiting.splice(0)) for (let i = w.from; i < w.chunk.n; i++) this.#settle(w.chunk.id(i), err)
    this.#failed()
  }

  #drainWaiting() {
    while (this.#waiting.length > 0) {
      const w = this.#waiting[0]
      w.from = this.#hand(w.chunk, w.from)
      if (w.from < w.chunk.n) return
      this.#waiting.shift()
    }
  }

  /**
   * After records failed outside a delivery batch (#settle with an error):
   * settles the addon's promises they rejected, one native call for the run
   * as for a delivery batch, and lets Node exit when nothing is in flight.
   */
  #failed() {
    promises.flush()
    this.#release()
  }

  #release() {
    if (this.#live === 0 && this.#keepAlive !== null) {
      clearInterval(this.#keepAlive)
      this.#keepAlive = null
    }
  }

  /** The delivery thread's call: a batch of reports, or an event of another kind (see DeliveryBatch in index.d.ts). */
  #onDelivery(batch) {
    switch (batch.kind) {
      case 'reports':
        break
      case 'error':
        emitClientError(this, batch.error)
        return
      case 'log':
        if (this.listenerCount('log') > 0) this.emit('log', batch.log)
        return
      case 'stats':
        emitStats(this, batch.stats)
        return
      case 'oauth':
        fetchToken(this.#oauthCb, batch.oauthConfig).then(
          (t) => call(() => this.#native.setOauthToken(t.token, t.lifetimeMs, t.principal, t.extensions || null)),
          (e) => this.#native.setOauthFailure(String((e && e.message) || e))
        ).catch((e) => this.#native.setOauthFailure(String((e && e.message) || e)))
        return
      default:
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
    const n = ids.length
    let f = 0
    let i = 0
    while (i < n) {
      const stop = f < failures.length ? failures[f].index : n
      if (i === stop) {
        const err = decodeError(failures[f].error) || new KafkaError(failures[f].error, 'ERR__FAIL')
        f++
        this.#settle(ids[i], err, partitions[i], offsets[i], timestamps[i])
        i++
      } else {
        const end = this.#settleRun(batch, i, stop)
        if (end > i) {
          i = end
        } else {
          this.#settle(ids[i], null, partitions[i], offsets[i], timestamps[i])
          i++
        }
      }
    }
    promises.flush()
    this.#compact()
    this.#drainWaiting()
    this.#release()
  }
}

/**
 * The entry of a sendBatch() (topics: one name, or one per record) or of a
 * sendRaw() (`raw`): its range of ids starts at `first` (set by #trackRange);
 * `pending` counts records not yet settled, `left` those it still waits for
 * before it resolves (0 once it failed); `at` holds their reports' numbers.
 * One shape for both, so the code that settles them sees one.
 */
function batchEntry(topics, n, resolve, reject, raw) {
  const at = raw || n > POOLED_REPORTS ? new Float64Array(n * 3) : takeNumbers()
  return { topics, first: 0, n, pending: n, at, left: n, resolve, reject, raw }
}

/** What a completed sendBatch() or sendRaw() entry resolves with. */
function reportsOf(e) {
  if (e.raw) return new RawReports(e.topics, e.at)
  const reports = batchReports(e.at, e.n, e.topics)
  if (e.n <= POOLED_REPORTS && numbersPool.length < POOL_KEPT) numbersPool.push(e.at)
  return reports
}

/**
 * A sendBatch() of up to POOLED_REPORTS records keeps its reports' numbers in
 * a reused Float64Array (sendRaw()'s become its RawReports): a fresh one per
 * batch is a backing store for the GC to track and free. At most POOL_KEPT
 * (24 KB each) wait for reuse.
 */
const POOLED_REPORTS = 1024
const POOL_KEPT = 64
const numbersPool = []
function takeNumbers() {
  return numbersPool.length > 0 ? numbersPool.pop() : new Float64Array(POOLED_REPORTS * 3)
}

/**
 * The delivery reports of a sendRaw(), as columns over one Float64Array
 * (report i is record i's): no object per record.
 */
class RawReports {
  #at
  constructor(topic, at) {
    this.#at = at
    /** The topic every record went to. */
    this.topic = topic
    /** Number of reports. */
    this.length = at.length / 3
  }
  partition(i) {
    return this.#at[i * 3]
  }
  offset(i) {
    return this.#at[i * 3 + 1]
  }
  /** ms since the epoch, null when unknown. */
  timestamp(i) {
    const t = this.#at[i * 3 + 2]
    return t >= 0 ? t : null
  }
  /** The reports as DeliveryReport objects (what sendBatch() resolves with). */
  reports() {
    return batchReports(this.#at, this.length, this.topic)
  }
}

/** The DeliveryReports of n records from their numbers (three per record in `at`) and topics (one name, or one per record), in order. */
function batchReports(at, n, topics) {
  const out = new Array(n)
  const one = typeof topics === 'string'
  for (let i = 0; i < n; i++) {
    const ts = at[i * 3 + 2]
    out[i] = { topic: one ? topics : topics[i], partition: at[i * 3] | 0, offset: at[i * 3 + 1], timestamp: ts >= 0 ? ts : null }
  }
  return out
}

/**
 * The executor of send()'s own promises: it leaves the promise's resolve in
 * `taken` for send() to pick up at once. A closure per send() would be one
 * more object (and context) per record for the young-generation GC.
 */
let taken
function takeResolve(resolve) {
  taken = resolve
}

/** A key or value for produceOne, which takes plain types: each union its arguments would need costs napi type checks on every call. */
function bytesOrNull(v) {
  return v == null ? null : typeof v === 'string' ? Buffer.from(v) : v
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

module.exports = { Producer, RawReports }
