'use strict'
// The admin client.

const { native, DEFAULT_TIMEOUT_MS } = require('./client')
const { call, callAsync } = require('./error')
const { splitCallbacks } = require('./config')

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

module.exports = { Admin }
