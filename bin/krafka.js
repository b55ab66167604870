#!/usr/bin/env node
'use strict'
// `npx krafka doctor --config <client.properties | config.json> [--set key=value ...]`
// walks the Kerberos chain and prints each step with pass/fail and a fix.
const { readFileSync } = require('node:fs')
const { checkKerberos, parseProperties } = require('..')

function usage(code) {
  console.error('usage: krafka doctor --config <client.properties|config.json> [--set key=value ...]')
  process.exit(code)
}

async function doctor(args) {
  let config = {}
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') {
      const file = args[++i] || usage(2)
      const text = readFileSync(file, 'utf8')
      Object.assign(config, file.endsWith('.json') ? JSON.parse(text) : parseProperties(text))
    } else if (args[i] === '--set') {
      const [k, ...v] = (args[++i] || usage(2)).split('=')
      config[k] = v.join('=')
    } else {
      usage(2)
    }
  }
  const { ok, steps } = await checkKerberos(config)
  steps.forEach((s, i) => {
    console.log(`${s.ok ? '✔' : '✘'} ${i + 1}. ${s.step}: ${s.detail}`)
    if (!s.ok) console.log(`    ${s.code}\n    fix: ${s.fix || 'see the message above'}`)
  })
  console.log(ok ? 'Kerberos is healthy.' : 'Kerberos is NOT working; fix the first failing step.')
  return ok ? 0 : 1
}

const [cmd, ...rest] = process.argv.slice(2)
if (cmd !== 'doctor') usage(2)
doctor(rest).then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(`${e.code || 'error'}: ${e.message}`)
    process.exitCode = 2
  }
)
