#!/usr/bin/env node
// The `durable` command. The CLI is TypeScript (cli/main.ts): register tsx's ESM loader in this process, then
// import it. The loader stays registered, so `durable dev` can import the user's TypeScript entry file too.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly (lingering keep-alive sockets must not hold the process), once stdout has drained.
process.stdout.write('', () => process.exit(code));
