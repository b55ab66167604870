'use strict'
// Builds the native addon when it is missing (first `npm run demo` on a fresh clone).
const { existsSync, readdirSync } = require('node:fs')
const { execSync } = require('node:child_process')
const { join } = require('node:path')

const root = join(__dirname, '..')
const built = readdirSync(root).some((f) => f.startsWith('krafka.') && f.endsWith('.node'))
if (!built || !existsSync(join(root, 'index.js'))) {
  console.log('krafka: building the native addon (first run; a few minutes)...')
  execSync('npm run build', { cwd: root, stdio: 'inherit' })
}
