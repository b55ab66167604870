'use strict'
// Shared helpers for the integration tests: the connection facts of the real
// test environment (`npm run env:up` writes test-env/env.json) and unique names.
const { readFileSync, existsSync } = require('node:fs')
const { join } = require('node:path')
const { randomBytes } = require('node:crypto')

const root = join(__dirname, '..')
const envFile = join(root, 'test-env', 'env.json')

/** The test environment; throws (never skips) when it is not up. */
function testEnv() {
  if (!existsSync(envFile)) {
    throw new Error(`${envFile} is missing: run \`npm run env:up\` (npm test does it for you)`)
  }
  return JSON.parse(readFileSync(envFile, 'utf8'))
}

/** A unique name, so tests never see each other's topics or groups. */
function unique(prefix) {
  return `${prefix}-${Date.now()}-${randomBytes(4).toString('hex')}`
}

/** Config for the PLAINTEXT listener. */
function plaintext(extra = {}) {
  return { 'bootstrap.servers': testEnv().bootstrap.plaintext, 'broker.address.family': 'v4', ...extra }
}

/** Config for the SASL_PLAINTEXT/GSSAPI listener as principal `who` (a key of env.json's principals). */
function gssapi(who = 'client', extra = {}) {
  const env = testEnv()
  const p = env.principals[who]
  return {
    'bootstrap.servers': env.bootstrap.gssapi,
    'broker.address.family': 'v4',
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanisms': 'GSSAPI',
    'sasl.kerberos.service.name': env.serviceName,
    'sasl.kerberos.principal': p.principal,
    'sasl.kerberos.keytab': p.keytab,
    ...extra,
  }
}

/** Creates a topic on the real broker and waits until it is usable. */
async function createTopic(partitions = 1, prefix = 'krafka-test') {
  const { Admin } = require('..')
  const topic = unique(prefix)
  const admin = new Admin(plaintext())
  await admin.createTopics([{ topic, numPartitions: partitions, replicationFactor: 1 }])
  // Metadata may lag creation for a moment.
  for (let i = 0; i < 50; i++) {
    const counts = await admin.partitionCounts(topic).catch(() => ({}))
    if (counts[topic] === partitions) break
    await new Promise((r) => setTimeout(r, 100))
  }
  return topic
}

/** Consumes until `n` messages arrived or `timeoutMs` passed; returns them. */
async function consumeN(consumer, n, timeoutMs = 30000) {
  const out = []
  const deadline = Date.now() + timeoutMs
  while (out.length < n && Date.now() < deadline) {
    out.push(...(await consumer.consume(Math.min(1000, n - out.length), 500)))
  }
  return out
}

module.exports = { root, testEnv, unique, plaintext, gssapi, createTopic, consumeN }
