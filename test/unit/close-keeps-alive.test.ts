import { createTestEnvironment } from 'durable-tasks/testing';
import { expect, test } from 'vitest';

// A script ending in `await durable.close()` must not end before close() does: what close waits for (a poll's
// timer, a server's sockets) does not hold the event loop, and Node ends a process whose top-level await is still
// pending with exit code 13 ("unsettled top-level await"), seen under load in test/local/restart.integration.test.ts.
test('close() holds the process open until it has closed, then lets go', async () => {
  const env = await createTestEnvironment();
  const { keepAlive } = env.durable.engine;
  await env.durable.task({ name: 'one', fn: async () => 1 }).run({});
  const before = keepAlive.count;
  const closing = env.durable.close();
  expect(keepAlive.count).toBe(before + 1);
  await closing;
  expect(keepAlive.count).toBe(before);
});
