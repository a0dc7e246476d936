/** examples/dag.ts, as `npm start` runs it, on the test environment. */
import { expect, test } from 'vitest';
import { createTestEnvironment } from 'durable-tasks/testing';
import { registerDagExample, runDagExample } from '../../examples/dag.ts';

test('the DAG example runs end to end and registers once per client', async () => {
  const env = await createTestEnvironment();
  const wf = registerDagExample(env.durable);
  expect(registerDagExample(env.durable)).toBe(wf);
  const lines: string[] = [];
  const out = await runDagExample(env.durable, (line) => lines.push(line));
  expect(Object.keys(out).sort()).toEqual(['start', 'wait_for_event']);
  expect(out.wait_for_event).toMatchObject({ triggeredBy: ['event'] });
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('skip_on_event SKIPPED');
  await env.close();
});
