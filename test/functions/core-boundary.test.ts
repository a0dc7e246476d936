/**
 * Where the Lambda glue lives: in the AWS module (sdk/adapters/aws/lambda/), not in the core. No core file imports
 * an adapter (statically or lazily), and none handles a Lambda event, context or batch response itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const sdk = fileURLToPath(new URL('../../sdk/', import.meta.url));
const core = join(sdk, 'core');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('the core knows no Lambda', () => {
  test('no core file imports from the adapters, the local backend or the composition root', () => {
    const outside: string[] = [];
    for (const file of sources(core)) {
      const text = readFileSync(file, 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from\s+|import\(\s*)'(\.[^']+)'/g)) {
        const target = relative(sdk, resolve(dirname(file), specifier!));
        if (/^(adapters|local)\//.test(target) || target === 'durable.ts') outside.push(`${relative(sdk, file)} -> ${target}`);
      }
    }
    expect(outside).toEqual([]);
  });

  test('no core file handles SQS batches or the Lambda context: the AWS module does', () => {
    const glue = /batchItemFailures|getRemainingTimeInMillis|SqsEvent|SqsBatchResponse/;
    expect(sources(core).filter((file) => glue.test(readFileSync(file, 'utf8'))).map((file) => relative(sdk, file))).toEqual([]);
    const lambda = join(sdk, 'adapters', 'aws', 'lambda');
    expect(sources(lambda).filter((file) => glue.test(readFileSync(file, 'utf8'))).length).toBeGreaterThan(0);
  });
});
