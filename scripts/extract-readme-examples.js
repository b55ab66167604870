'use strict'
// Copies every ```ts block of README.md into examples/readme/ so that
// `tsc --strict` checks the documented API exactly as users will read it.
const { readFileSync, writeFileSync, mkdirSync, rmSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const out = join(root, 'examples', 'readme')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
blocks.forEach((code, i) => writeFileSync(join(out, `example-${String(i + 1).padStart(2, '0')}.ts`), `export {}\n${code}`))
console.log(`extracted ${blocks.length} README examples into examples/readme/`)
if (blocks.length === 0) process.exit(1)
