import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rule, read from the import statements themselves (static, `export ... from`, `import()` with a
 * literal, `require`; comments ignored): the core depends on ports only, never on an adapter, the embedded default or
 * AWS; the runtime (sdk/, functions/, cli/) never imports the CDK construct; infra/ knows handlers only by path.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE = /\.(ts|mts|js|mjs)$/;

/** Every module specifier `text` imports. */
function specifiersOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Where a specifier in `file` points: a repository path (`infra/index.ts`) for relative ones, else the bare name. */
function targetOf(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(ROOT, resolve(dirname(file), specifier)).split('\\').join('/');
}

/** Every source file under the repository folder `folder`. */
function sourcesUnder(folder: string): string[] {
  return (readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' }) as string[])
    .filter((name) => SOURCE.test(name) && !name.endsWith('.d.ts'))
    .map((name) => join(ROOT, folder, name));
}

/** `from -> to` for each import of a file under `folders` whose target `forbidden` matches. */
function violations(folders: string[], forbidden: (target: string) => boolean): string[] {
  return folders.flatMap((folder) =>
    sourcesUnder(folder).flatMap((file) =>
      specifiersOf(readFileSync(file, 'utf8'))
        .map((specifier) => targetOf(file, specifier))
        .filter(forbidden)
        .map((target) => `${relative(ROOT, file)} -> ${target}`),
    ),
  );
}

const under = (...prefixes: string[]) => (target: string) =>
  prefixes.some((prefix) => target === prefix || target.startsWith(`${prefix}/`));

const INFRA = under('infra', 'durable-tasks/infra', 'aws-cdk-lib', 'constructs');
const OUTSIDE_CORE = (target: string) =>
  under('sdk/adapters', 'sdk/local', 'sdk/testing', 'durable-tasks/testing', 'functions', 'cli', 'infra')(target) ||
  target.startsWith('@aws-sdk/') ||
  target.startsWith('@smithy/');
const RUNTIME = under('functions', 'cli');

describe('given the import statements of the sources', () => {
  it('then the scanner sees real edges: infra -> the runtime constants, cli -> the sdk, a re-export and a dynamic import, ignoring comments', () => {
    const edges = violations(['infra'], under('sdk/adapters/aws/env.ts'));
    expect(edges).toContain('infra/constructs/grants.ts -> sdk/adapters/aws/env.ts');
    expect(violations(['cli'], under('sdk')).length).toBeGreaterThan(0);
    expect(specifiersOf("export { a } from './a.ts';\nconst m = await import('../../infra/index.ts');\n// import x from 'commented';")).toEqual([
      './a.ts',
      '../../infra/index.ts',
    ]);
  });

  it('then nothing under sdk/, functions/ or cli/ imports infra/ (or the CDK)', () => {
    expect(violations(['sdk', 'functions', 'cli'], INFRA)).toEqual([]);
  });

  it('then sdk/core imports no adapter, embedded default, test environment, handler, CLI, infra or AWS SDK: it knows ports only', () => {
    expect(violations(['sdk/core'], OUTSIDE_CORE)).toEqual([]);
  });

  it('then infra/ imports no handler and no CLI code: it knows functions/*.ts by path only', () => {
    expect(violations(['infra'], RUNTIME)).toEqual([]);
  });

  it('then infra/ reads the runtime only through its constants (env.ts) and the table layout (table-schema.ts)', () => {
    expect(violations(['infra'], (target) => under('sdk')(target) && !under('sdk/adapters/aws/env.ts', 'sdk/adapters/aws/table-schema.ts')(target))).toEqual([]);
  });
});
