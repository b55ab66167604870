'use strict'
// The broker the benchmarks talk to: where it is, the topics they make on it,
// and (when it is the test broker `npm run env:up` started here) its CPU and
// files. Used by run.js and loop-floor.js.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { randomBytes } = require('node:crypto')

const root = path.join(__dirname, '..', '..')
const env = process.env

const envFile = path.join(root, 'test-env', 'env.json')

/** test-env/env.json (written by `npm run env:up`), parsed; null when there is none. */
function envJson() {
  try {
    return JSON.parse(fs.readFileSync(envFile, 'utf8'))
  } catch {
    return null
  }
}

/** KAFKA_BOOTSTRAP, or the PLAINTEXT listener of the test broker. */
function bootstrap() {
  if (env.KAFKA_BOOTSTRAP) return env.KAFKA_BOOTSTRAP
  const e = envJson()
  if (!e) throw new Error(`${envFile} is missing: run \`npm run env:up\` first (or set KAFKA_BOOTSTRAP)`)
  return e.bootstrap.plaintext
}

/**
 * test-env/, when the broker benchmarked is the one `npm run env:up` started
 * here (its files and pid are then ours to read); null otherwise.
 */
function testEnv() {
  const e = envJson()
  if (!e) return null
  return !env.KAFKA_BOOTSTRAP || env.KAFKA_BOOTSTRAP === e.bootstrap.plaintext ? path.dirname(envFile) : null
}

/** A name no earlier run used (topics, consumer groups). */
const unique = (prefix) => `krafka-bench-${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`

/** The topics a benchmark makes, each dropped when done with (dropAll() for the rest). */
class Topics {
  constructor(bootstrapServers, { partitions = 3, log = () => {} } = {}) {
    const { Admin } = require(root)
    this.admin = new Admin({ 'bootstrap.servers': bootstrapServers, 'broker.address.family': 'v4' })
    this.created = new Set()
    this.partitions = partitions
    this.log = log
  }
  async create(prefix) {
    const topic = unique(prefix)
    await this.admin.createTopics([{ topic, numPartitions: this.partitions, replicationFactor: 1 }])
    this.created.add(topic)
    for (let i = 0; i < 100; i++) {
      // All topics, never partitionCounts(topic): naming a topic makes this long-lived
      // handle refresh its metadata every topic.metadata.refresh.interval.ms (5 min),
      // which re-creates it on a broker with auto.create.topics.enable=true after we deleted it.
      const counts = await this.admin.partitionCounts().catch(() => ({}))
      if (counts[topic] === this.partitions) break
      await new Promise((r) => setTimeout(r, 100))
    }
    return topic
  }
  /**
   * Deletes a topic and, on the test broker here, waits (up to 10 s) until
   * its files are gone: env-up.sh's broker deletes them at once, so the page
   * cache they held is free before the next run writes, rather than freed in
   * the middle of a later run. On this virtual machine memory freed and left
   * unused goes back to the host, and the broker's writes into it then cost
   * it two to three times the CPU: freed at a random moment, it made the
   * broker's CPU per record, and every rate, swing from run to run.
   */
  async drop(topic) {
    this.created.delete(topic)
    await this.admin.deleteTopics([topic]).catch((e) => this.log(`could not delete ${topic}: ${e.message}`))
    const te = testEnv()
    const dir = te && path.join(te, 'kafka-data')
    for (let i = 0; dir && i < 100; i++) {
      let left
      try {
        left = fs.readdirSync(dir).some((d) => d.startsWith(`${topic}-`))
      } catch {
        return
      }
      if (!left) return
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  async dropAll() {
    for (const t of [...this.created]) await this.drop(t)
  }
  async close() {
    await this.dropAll()
    await this.admin.close()
  }
}

/**
 * The CPU seconds (user and system) the test broker has used so far, or null
 * when the broker is not the one `npm run env:up` started here (its pid file
 * in test-env/run) or cannot be read. On this machine the broker shares the
 * clients' CPUs, so a client's rate follows its CPU and the broker's together.
 */
function brokerCpuSeconds() {
  try {
    const te = testEnv()
    if (!te) return null
    const pid = fs.readFileSync(path.join(te, 'run', 'kafka.pid'), 'utf8').trim()
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    clockTicks = clockTicks || Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))
    return { user: Number(f[11]) / clockTicks, system: Number(f[12]) / clockTicks }
  } catch {
    return null
  }
}
let clockTicks = 0 // /proc's unit of CPU time per second (getconf CLK_TCK)

module.exports = { bootstrap, testEnv, unique, Topics, brokerCpuSeconds }
