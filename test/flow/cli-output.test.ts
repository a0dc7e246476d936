/**
 * `durable runs get` shows where a flow-controlled run waits and why, its idempotency key and priority.
 */
import { expect, test } from 'vitest';
import { createStyle, formatRunDetails } from '../../cli/output.ts';

test('runs get prints the flow-control fields of a queued run', () => {
  const text = formatRunDetails(
    {
      runId: 'r-1',
      name: 'sync-user',
      status: 'QUEUED',
      input: { userId: 'u1' },
      output: undefined,
      error: undefined,
      attempt: 0,
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
      operations: [],
      idempotencyKey: 'delivery-7',
      priority: 3,
      concurrencyKey: 'sync-user#u1',
      waitingFor: "concurrency key 'sync-user#u1': 1 run(s) in flight (GROUP_ROUND_ROBIN)",
    },
    createStyle(false),
  );
  expect(text).toContain("queued   concurrency key 'sync-user#u1': 1 run(s) in flight (GROUP_ROUND_ROBIN)");
  expect(text).toContain('idempotency key delivery-7');
  expect(text).toContain('priority 3');
});
