// `npm run build` (and `prepack`): compiles the package into dist/ (ESM JavaScript, .d.ts, source maps) with
// tsconfig.build.json, whose `rewriteRelativeImportExtensions` turns the sources' `./x.ts` imports into `./x.js`.
// `@internal` declarations are stripped from the .d.ts files, so the tests' hooks stay out of the public types.
// Contributors never need it: tests, examples and the CLI run on the sources (tsconfig `paths`, vitest aliases).
// Deliberately no `prepare` script: `npm ci` (CI, contributors) would compile on every install for nothing.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
// Read at run time by the dev server (cli/server/dev-server.ts), next to its module as in the sources.
cpSync(new URL('../cli/dashboard', import.meta.url), new URL('../dist/cli/dashboard', import.meta.url), { recursive: true });
