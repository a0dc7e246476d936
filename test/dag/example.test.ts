/** examples/dag.ts, as `npm start` runs it, on the test environment. */
import { expect, test } from 'vitest';
import { registerDagExample, runDagExample } from '../../examples/dag.ts';
import { durable, useDagEnvironment } from './fixture.ts';

useDagEnvironment();

test('the DAG example runs end to end and registers once per client', async () => {
  const wf = registerDagExample(durable);
  expect(registerDagExample(durable)).toBe(wf);
  const lines: string[] = [];
  const out = await runDagExample(durable, (line) => lines.push(line));
  expect(Object.keys(out).sort()).toEqual(['start', 'wait_for_event']);
  expect(out.wait_for_event).toMatchObject({ triggeredBy: ['event'] });
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('skip_on_event SKIPPED');
});
