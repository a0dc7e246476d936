/**
 * The examples' recorded histories (examples/histories/*.json, written by examples/record-histories.ts) replay
 * against the examples' current code: a change to an example that would break one of its runs in flight fails
 * here, in CI, before it is deployed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunHistory, TaskDefinition } from 'durable-tasks';
import { createTestEnvironment, replayHistory, type TestEnvironment } from 'durable-tasks/testing';
import { defineExamples, type Examples } from '../../examples/definitions.ts';

const DIR = fileURLToPath(new URL('../../examples/histories/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const read = (file: string) => JSON.parse(readFileSync(`${DIR}${file}`, 'utf8')) as RunHistory;

let env: TestEnvironment;
let examples: Examples;
beforeAll(async () => {
  env = await createTestEnvironment();
  examples = defineExamples(env.durable);
});
afterAll(() => env.close());

const taskNamed = (name: string) =>
  Object.values(examples).find((d): d is TaskDefinition<any, any> => 'spec' in d && d.name === name) ?? expect.fail(`no example task named '${name}'`);

describe('examples/histories', () => {
  test('holds recorded histories of at least two examples, one of a run still in flight', () => {
    const histories = files.map(read);
    expect(new Set(histories.map((h) => h.name)).size).toBeGreaterThanOrEqual(2);
    expect(histories.some((h) => h.status === 'WAITING')).toBe(true);
  });

  test.each(files)('%s replays against the current example code', async (file) => {
    const history = read(file);
    await expect(replayHistory(taskNamed(history.name), history)).resolves.toBeUndefined();
  });

  test('an incompatible change is caught: the same history with its first operation renamed fails at position 0', async () => {
    const history = read('await-approval.done.json');
    history.entries[0]!.name = 'expense:approved';
    await expect(replayHistory(taskNamed(history.name), history)).rejects.toMatchObject({
      name: 'NonDeterminismError',
      position: 0,
      expected: "waitForEvent('expense:approved')",
      actual: "waitForEvent('expense:reviewed')",
    });
  });
});
