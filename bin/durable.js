#!/usr/bin/env node
// The `durable` command. Installed, it runs the compiled CLI (dist/cli/main.js) with no loader; in a checkout of the
// repository (cli/main.ts present) it runs the TypeScript sources through tsx. Either way, when tsx is installed its
// ESM loader is registered first, so `durable dev --entry src/worker.ts` can import a TypeScript entry file; a
// JavaScript entry needs no loader.
import { existsSync } from 'node:fs';

const sources = new URL('../cli/main.ts', import.meta.url);
const fromSources = existsSync(sources);
try {
  const { register } = await import('tsx/esm/api');
  register();
} catch (error) {
  if (fromSources) throw error;
  // tsx is an optional peer dependency: without it only .js/.mjs entry files load.
}
const { main } = await import(fromSources ? sources.href : '../dist/cli/main.js');
const code = await main(process.argv.slice(2));
// Exit explicitly (lingering keep-alive sockets must not hold the process), once stdout has drained.
process.stdout.write('', () => process.exit(code));
