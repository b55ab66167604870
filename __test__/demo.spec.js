'use strict'
// `npm run demo`: on the embedded mock cluster without KAFKA_BOOTSTRAP, and on
// the real broker with it.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { join } = require('node:path')
const { root, testEnv } = require('./helpers')

function demo(env) {
  const e = { ...process.env, ...env }
  if (!env.KAFKA_BOOTSTRAP) delete e.KAFKA_BOOTSTRAP
  return execFileSync(process.execPath, [join(root, 'examples', 'demo.js')], { env: e, encoding: 'utf8', timeout: 60000 })
}

test('demo round-trips on the embedded mock cluster', () => {
  const out = demo({})
  assert.match(out, /embedded mock cluster/)
  assert.match(out, /done: 3 of 3 messages round-tripped/)
  assert.equal((out.match(/^consumed <- .* key=order-\d value=\{"word"/gm) || []).length, 3)
})

test('demo round-trips on the real broker with KAFKA_BOOTSTRAP', () => {
  const out = demo({ KAFKA_BOOTSTRAP: testEnv().bootstrap.plaintext })
  assert.match(out, new RegExp(`broker ${testEnv().bootstrap.plaintext.replace(/\./g, '\\.')}`))
  assert.match(out, /done: 3 of 3 messages round-tripped/)
})
