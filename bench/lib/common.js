'use strict'
// Shared by every JS contender (bench/contenders/*.js), so each one is timed,
// paced and measured the same way. A contender only supplies the calls into
// its own client library.
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { setImmediate: nextTurn, setTimeout: sleep } = require('node:timers/promises')

/** p-th percentile (nearest rank on a sorted copy). */
function percentile(values, p) {
  if (values.length === 0) return 0
  const s = Float64Array.from(values).sort()
  return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))]
}

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x))
  return v.length === 0 ? null : percentile(v, 50)
}

/**
 * A distribution-free confidence interval for the median of `values`: the
 * k-th lowest and k-th highest value, k as large as keeps the chance that
 * the true median lies between them at `level` or more (sign test: the count
 * of values below the median is Binomial(n, 1/2)). Assumes nothing about the
 * shape of the noise. With 3 to 7 values it is the lowest and the highest
 * (5 values: 94 %); with 8 to 10, the second lowest and second highest
 * (9: 96 %): more runs narrow it, where "every run" would only get harder
 * to meet. Returns { low, high, level } (level: the interval's own), or
 * null without values.
 */
function medianInterval(values, level = 0.9) {
  const v = Float64Array.from(values.filter((x) => typeof x === 'number' && Number.isFinite(x))).sort()
  const n = v.length
  if (n === 0) return null
  // below[j] = P(Binomial(n, 1/2) <= j)
  const below = []
  let c = 1
  let sum = 0
  for (let j = 0; j <= n; j++) {
    sum += c / 2 ** n
    below.push(sum)
    c = (c * (n - j)) / (j + 1)
  }
  let k = 1
  while (k + 1 <= Math.floor(n / 2) && 1 - 2 * below[k] >= level) k++
  return { low: v[k - 1], high: v[n - k], level: n >= 2 ? 1 - 2 * below[k - 1] : 0 }
}

/** A 100-byte (or `size`) value, the same bytes the native ceiling sends. */
function valueOf(size) {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26)
  return b
}

/**
 * The calling (event-loop) thread's time on a CPU and time spent runnable but
 * waiting for one, in ms (Linux schedstat; null elsewhere). The wait is the
 * part of event-loop delay that the machine's load, not the loop's own work,
 * accounts for.
 */
function loopSchedMs() {
  try {
    const [run, wait] = require('node:fs').readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ').map(Number)
    return [run / 1e6, wait / 1e6]
  } catch {
    return null
  }
}

/**
 * CPU time of each of this process's threads so far, in ms, summed by thread
 * name (the event-loop thread as "event-loop"; Linux schedstat, null
 * elsewhere): where a run's CPU went, e.g. librdkafka's broker threads
 * ("rdk:broker1"), krafka's delivery thread, V8's helpers ("node").
 */
function threadCpuMs() {
  const fs = require('node:fs')
  try {
    const out = {}
    for (const t of fs.readdirSync('/proc/self/task')) {
      try {
        const name = t === String(process.pid) ? 'event-loop' : fs.readFileSync(`/proc/self/task/${t}/comm`, 'latin1').trim()
        const ns = Number(fs.readFileSync(`/proc/self/task/${t}/schedstat`, 'latin1').split(' ')[0])
        out[name] = (out[name] || 0) + ns / 1e6
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return out
  } catch {
    return null
  }
}

/**
 * Wall time, CPU time (process.cpuUsage: user + system of every thread of the
 * process, librdkafka's included) and, when asked, event-loop delay
 * (monitorEventLoopDelay, 1 ms resolution) and the event-loop thread's CPU
 * wait (loopSchedMs) between start() and stop().
 */
class Meter {
  constructor({ eld = false } = {}) {
    this.eld = eld
    this.t0 = null
  }
  start() {
    if (this.t0 !== null) return
    if (this.eld) {
      this.h = monitorEventLoopDelay({ resolution: 1 })
      this.h.enable()
    }
    this.sched0 = this.eld ? loopSchedMs() : null
    this.threads0 = this.eld ? threadCpuMs() : null
    this.cpu0 = process.cpuUsage()
    this.t0 = process.hrtime.bigint()
  }
  /**
   * Takes the end time and CPU now; resolves once the event-loop monitor has
   * had one more tick, so a loop that was blocked until now is still counted.
   */
  async stop() {
    if (this.t1 !== undefined) return
    this.t1 = process.hrtime.bigint()
    this.cpu1 = process.cpuUsage(this.cpu0)
    this.sched1 = this.sched0 ? loopSchedMs() : null
    this.threads1 = this.threads0 ? threadCpuMs() : null
    if (this.h) {
      await sleep(5)
      this.h.disable()
    }
  }
  get seconds() {
    return Number(this.t1 - this.t0) / 1e9
  }
  result() {
    const out = { seconds: this.seconds, cpuSeconds: (this.cpu1.user + this.cpu1.system) / 1e6 }
    if (this.h) {
      const none = this.h.count === 0
      out.eldP99Ms = none ? null : this.h.percentile(99) / 1e6
      out.eldMaxMs = none ? null : this.h.max / 1e6
    }
    if (this.sched0 && this.sched1) {
      out.loopRunMs = this.sched1[0] - this.sched0[0]
      out.loopWaitMs = this.sched1[1] - this.sched0[1]
      out.loopWaitShare = out.loopWaitMs / (out.seconds * 1000)
    }
    if (this.threads0 && this.threads1) {
      // Per thread name over the timed window (a thread that ended inside it is left out).
      out.threadCpuMs = {}
      for (const [k, v] of Object.entries(this.threads1)) out.threadCpuMs[k] = Math.round(v - (this.threads0[k] || 0))
    }
    return out
  }
}

/**
 * The pipelined-produce driver, identical for every client: hands out the
 * records in chunks (one chunk per event-loop turn, so the loop is never held
 * for long), keeps at most `maxInFlight` records unacknowledged (below
 * librdkafka's default 100,000-message queue), and resolves when every chunk's
 * promise has. `sendChunk(first, n)` sends records first..first+n-1 and
 * returns a promise that settles when all of them are acknowledged.
 */
async function pipeline({ total, chunk = 1000, maxInFlight = 50000 }, sendChunk) {
  let inFlight = 0
  let wake = null
  let failure = null
  const settled = []
  for (let first = 0; first < total; first += chunk) {
    if (failure) throw failure
    const n = Math.min(chunk, total - first)
    inFlight += n
    const p = sendChunk(first, n).then(
      () => {
        inFlight -= n
        if (wake && inFlight <= maxInFlight / 2) {
          const w = wake
          wake = null
          w()
        }
      },
      (e) => {
        failure = failure || e
        if (wake) wake()
      }
    )
    settled.push(p)
    if (inFlight >= maxInFlight) await new Promise((r) => (wake = r))
    else await nextTurn()
  }
  await Promise.all(settled)
  if (failure) throw failure
}

/**
 * Scenario 1's measurement, the same for every JS contender (and, with
 * `--warmup`, the native ceiling): `p.warmup` records through `sendChunk`
 * untimed, so V8 has compiled the paths the timed records take (as in a
 * producer that has been running a while), then `p.count` records timed.
 * Returns the stopped Meter.
 */
async function timedPipeline(p, sendChunk) {
  if (p.warmup > 0) await pipeline({ total: p.warmup, maxInFlight: p.maxInFlight }, sendChunk)
  const meter = new Meter({ eld: true })
  meter.start()
  await pipeline({ total: p.count, maxInFlight: p.maxInFlight }, sendChunk)
  await meter.stop()
  return meter
}

/** Sequential awaited sends; latency of each after `warmup`, stopping at `maxSeconds`. */
async function awaited({ count, warmup = 100, maxSeconds = 60 }, sendOne) {
  const lat = []
  const start = Date.now()
  for (let i = 0; i < warmup + count; i++) {
    if (i >= warmup && Date.now() - start > maxSeconds * 1000) break
    const t = process.hrtime.bigint()
    await sendOne(i)
    if (i >= warmup) lat.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return { samples: lat.length, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), meanMs: lat.reduce((a, b) => a + b, 0) / (lat.length || 1) }
}

/**
 * End-to-end latency at a fixed rate, for one client that both produces and
 * consumes in this process. Each value carries its send time
 * (process.hrtime.bigint) in its first 8 bytes; `recorder.receive(value)`
 * turns a consumed value into a sample. Samples count only for records sent
 * after the warm-up and at least 0.5 s after the consumer's first receipt
 * (so a slow group join does not inflate the figures).
 */
class E2E {
  constructor({ rate = 10000, seconds = 10, warmupSeconds = 2, size = 100 }) {
    this.rate = rate
    this.size = Math.max(8, size)
    this.total = Math.round((warmupSeconds + seconds) * rate)
    this.warmupNs = BigInt(Math.round(warmupSeconds * 1e9))
    this.measureFrom = null // set when production starts
    this.firstRx = null
    this.received = 0
    this.lat = []
    this.template = valueOf(this.size)
    this.done = new Promise((r) => (this.finish = r))
  }
  /** A fresh value stamped with now (fresh: some clients keep the Buffer until sent). */
  value() {
    const v = Buffer.allocUnsafe(this.size)
    this.template.copy(v)
    v.writeBigInt64LE(process.hrtime.bigint(), 0)
    return v
  }
  /** An unstamped value (send time 0): warms a producer up and is ignored on receipt. */
  warmupValue() {
    return Buffer.alloc(this.size)
  }
  receive(value) {
    const now = process.hrtime.bigint()
    const sent = value && value.length >= 8 ? value.readBigInt64LE(0) : 0n
    if (sent === 0n) return
    this.received++
    if (this.firstRx === null) this.firstRx = now
    if (sent >= this.measureFrom && sent >= this.firstRx + 500000000n) this.lat.push(Number(now - sent) / 1e6)
    if (this.received >= this.total) this.finish()
  }
  /**
   * Paces `send(value)` at `rate`/s from a 1 ms timer; resolves when every
   * record was handed over. With `{ batch: true }`, each tick's records go to
   * `send(values)` in one call (for clients whose send takes arrays).
   */
  async produce(send, { batch = false } = {}) {
    const start = process.hrtime.bigint()
    this.measureFrom = start + this.warmupNs
    let sent = 0
    while (sent < this.total) {
      const due = Math.min(this.total, Math.floor((Number(process.hrtime.bigint() - start) / 1e9) * this.rate))
      if (batch && due > sent) {
        const values = []
        while (sent < due) {
          values.push(this.value())
          sent++
        }
        send(values)
      }
      while (sent < due) {
        send(this.value())
        sent++
      }
      await sleep(1)
    }
  }
  /** Waits for the consumer to see everything (or `timeoutMs`), then summarizes. */
  async result(timeoutMs = 30000) {
    let timer
    await Promise.race([this.done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))])
    clearTimeout(timer)
    return { samples: this.lat.length, received: this.received, sent: this.total, p50Ms: percentile(this.lat, 50), p99Ms: percentile(this.lat, 99) }
  }
}

/** RSS in MB. */
function rssMb() {
  return process.memoryUsage.rss() / 1e6
}

/** Runs `fn` and rejects if it takes longer than `ms`. */
async function withTimeout(ms, what, fn) {
  let timer
  try {
    return await Promise.race([
      fn(),
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms))),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** An installed package's version (read from bench/node_modules: some packages do not export package.json). */
function pkgVersion(name) {
  const f = require('node:path').join(__dirname, '..', 'node_modules', ...name.split('/'), 'package.json')
  return JSON.parse(require('node:fs').readFileSync(f, 'utf8')).version
}

module.exports = { pkgVersion, percentile, median, medianInterval, valueOf, Meter, pipeline, timedPipeline, awaited, E2E, rssMb, withTimeout, sleep, nextTurn }
