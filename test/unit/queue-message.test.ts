import { describe, expect, test } from 'vitest';
import { classifyQueueMessage } from '../../sdk/core/queue-message.ts';
import { dispatchBody, ROUTE_CONTINUATION_TYPE } from '../../sdk/core/dispatch-message.ts';
import { cronTickBody, RECONCILE_CRONS_RUN_ID } from '../../sdk/core/cron/tick-message.ts';

const continuation = { event: { key: 'order:paid', eventId: 'e-1', time: 1, seq: 2, payload: '{}' }, shard: 0 };

describe('given a body on the dispatch queue', () => {
  test('then a dispatch message is a run to replay, and the reconcile id a request to reconcile the crons', () => {
    expect(classifyQueueMessage(dispatchBody({ runId: 'r-1' }))).toEqual({ type: 'run', runId: 'r-1' });
    expect(classifyQueueMessage(dispatchBody({ runId: RECONCILE_CRONS_RUN_ID }))).toEqual({ type: 'reconcile-crons' });
  });

  test('then a run id the queue adapter already parsed is taken as is', () => {
    expect(classifyQueueMessage('', 'r-2')).toEqual({ type: 'run', runId: 'r-2' });
  });

  test("then a router's continuation and a cron schedule's tick are told apart from dispatches", () => {
    const body = JSON.stringify({ type: ROUTE_CONTINUATION_TYPE, continuation });
    expect(classifyQueueMessage(body)).toEqual({ type: 'continuation', continuation });
    expect(classifyQueueMessage(cronTickBody('nightly', '2030-01-01T03:00:00Z'))).toEqual({ type: 'cron-tick', tick: { cron: 'nightly', tick: Date.UTC(2030, 0, 1, 3) } });
  });

  test('then anything else is malformed: not JSON, no run id, an empty one, a tick with no valid time, a broken continuation', () => {
    for (const body of ['hello', '[]', '{}', '{"runId":""}', '{"runId":7}', cronTickBody('nightly', 'not a time'), JSON.stringify({ type: ROUTE_CONTINUATION_TYPE, continuation: { shard: 0 } }), undefined]) {
      expect(classifyQueueMessage(body), String(body)).toEqual({ type: 'malformed' });
    }
  });
});
