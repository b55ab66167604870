'use strict'
// Secrets (passwords, JAAS lines, key passphrases) never appear in errors,
// log events (librdkafka debug logs included) or inspect() output.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const { join } = require('node:path')
const { testEnv } = require('./helpers')

test('a failing debug=all run never prints a secret', () => {
  const secrets = ['pw-Xq83zzLk', 'jaas-Ty72ppQe', 'key-Mn45rrWd']
  const r = spawnSync(process.execPath, [join(__dirname, 'fixtures', 'leaky-run.js'), testEnv().bootstrap.plaintext, ...secrets], {
    encoding: 'utf8',
    timeout: 60000,
  })
  const out = `${r.stdout}\n${r.stderr}`
  assert.ok((out.match(/ log /g) || []).length > 50, 'debug logs must have been captured')
  assert.match(out, /error KafkaError/)
  assert.match(out, /constructor threw/)
  assert.match(out, /sasl\.jaas\.config/)
  for (const s of secrets) assert.ok(!out.includes(s), `secret ${s} leaked:\n${out.split('\n').filter((l) => l.includes(s)).slice(0, 3).join('\n')}`)
})
