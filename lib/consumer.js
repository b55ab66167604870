'use strict'
// The consumer: async iteration over native batches (messages, batches(),
// rawBatches()), offsets stored after the loop body, rebalance hooks.

const { EventEmitter } = require('node:events')
// Node 20 serves the global `Buffer` through a getter: a module binding is cheaper per message.
const { Buffer } = require('node:buffer')
const { performance } = require('node:perf_hooks')
const { native, NATIVE, noop, emitStats } = require('./client')
const { KafkaError, call, callAsync, emitClientError } = require('./error')
const { splitCallbacks, fetchToken } = require('./config')

/** How long `for await` runs loop bodies before it lets the event loop take a turn. */
const TURN_MS = 2

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
  /** The native columns (for this file only). */
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

  /** Creates a consumer from Kafka config keys (`group.id` needed for subscribe() and commits; without it, assign() as Java's consumer). */
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
    // Out of next(): a closure there that used one of next()'s own variables
    // would make V8 allocate a context on every call, i.e. per message.
    const nextTurn = (result) =>
      new Promise((resolve) =>
        setImmediate(() => {
          turnEnd = performance.now() + TURN_MS
          resolve(result)
        })
      )
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
          if ((i & 127) === 0 && performance.now() > turnEnd) return nextTurn({ value, done: false })
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
    if (ev.kind === 'stats') {
      emitStats(this, ev.stats)
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

module.exports = { Consumer, RawBatch }
