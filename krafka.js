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
//    as one Buffer plus typed-array columns (Packer, RawChunk, RawBatch), so no napi
//    call or property-by-property conversion happens per message.
// All defaults, validation and Kafka logic live in the Rust core.
//
// One concept per file under lib/, as in the core: error, config, record
// (records to produce and their packed layout), producer, consumer, admin,
// kerberos, and client (what the client classes share).

const { native } = require('./lib/client')
const { KafkaError } = require('./lib/error')
const { parseProperties } = require('./lib/config')
const { Producer, RawReports } = require('./lib/producer')
const { Consumer, RawBatch } = require('./lib/consumer')
const { Admin } = require('./lib/admin')
const { checkKerberos } = require('./lib/kerberos')

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
  RawReports,
  features,
  librdkafkaVersion,
}
