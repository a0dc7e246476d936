/**
 * Listing runs without a Scan: two KEYS_ONLY GSIs on the run item, every run (`LIST#<shard>`) and by name
 * (`NAME#<name>#<shard>`), both sorted by `<createdAt>#<runId>`. Their keys are set once, when the run item is
 * created, and never change: a status change, a lease, a heartbeat writes no index entry. A page queries every
 * shard backwards from the cursor (`lsk < cursor`), merges them newest first, reads the runs (BatchGetItem) and
 * applies the status and task-run filters to what it read. The cursor is the sort key of the last run looked at, so it holds no
 * per-shard state and a page never returns a run twice.
 *
 * Cost of a page of `limit` runs: one Query per shard (`LIST_SHARDS`) reading at most `limit` keys each, and one
 * BatchGetItem per 100 runs. With a status filter, the runs of other statuses are read and dropped: a page reads
 * at most `MAX_EXAMINED` runs, then returns what it found with a cursor to continue.
 */
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { decodeListCursor as decodeCursor, encodeListCursor as encodeCursor, listSortKey } from '../../core/list-cursor.ts';
import type { ListRunsQuery, RunRecord } from '../../ports.ts';
import type { Item } from './dynamo-items.ts';
import { stableHash } from './dynamo-keys.ts';
import {
  LIST_BY_NAME_INDEX,
  LIST_BY_NAME_INDEX_PARTITION_KEY,
  LIST_INDEX,
  LIST_INDEX_PARTITION_KEY,
  LIST_INDEX_SORT_KEY,
  LIST_SHARDS,
  PARTITION_KEY,
  SORT_KEY,
} from './table-schema.ts';

/** Runs a page of a status-filtered listing reads at most before it returns (with a cursor) what it found. */
export const MAX_EXAMINED = 1_000;

/** The listing-index key attributes of a new run item. */
export function listKeys(run: Pick<RunRecord, 'runId' | 'name' | 'createdAt'>): Record<string, string> {
  const shard = stableHash(run.runId) % LIST_SHARDS;
  return {
    [LIST_INDEX_PARTITION_KEY]: `LIST#${shard}`,
    [LIST_BY_NAME_INDEX_PARTITION_KEY]: `NAME#${run.name}#${shard}`,
    [LIST_INDEX_SORT_KEY]: listSortKey(run.createdAt, run.runId),
  };
}

/** A page of runs and, when more may follow, the cursor of the next page. */
export interface RunPage {
  runs: RunRecord[];
  cursor?: string;
}

/** What the lister needs from the store: the client, and a consistent-enough read of run items by key. */
export interface ListDeps {
  client: DynamoDBClient;
  tableName: string;
  /** The live runs of these run-item keys (missing or expired ones left out), in any order. */
  readRuns(keys: Item[]): Promise<RunRecord[]>;
}

/**
 * One page of runs, newest first. `limit` undefined: every run (paging through the index internally).
 * @throws {DurableError} on a cursor no listing issued.
 */
export async function listRunsPage(deps: ListDeps, query: ListRunsQuery): Promise<RunPage> {
  const limit = query.limit;
  const runs: RunRecord[] = [];
  let before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  let examined = 0;
  for (;;) {
    // A status filter drops what it reads: read 100 keys a round then (one BatchGetItem), not just the shortfall.
    const filtered = query.status !== undefined || query.taskRuns === false;
    const want = limit === undefined || filtered ? 100 : Math.max(1, limit - runs.length);
    const keys = await newestKeys(deps, query.name, before, want);
    if (keys.length === 0) return { runs };
    const read = new Map((await deps.readRuns(keys.map((k) => k.key))).map((run) => [run.runId, run]));
    for (const { sk, runId } of keys) {
      before = sk;
      examined++;
      const run = read.get(runId);
      if (run && matches(run, query)) runs.push(run);
      if (limit !== undefined && runs.length >= limit) return { runs, cursor: encodeCursor(sk) };
    }
    if (limit !== undefined && examined >= MAX_EXAMINED) return { runs, cursor: encodeCursor(before!) };
  }
}

function matches(run: RunRecord, { status, name, taskRuns }: ListRunsQuery): boolean {
  return (status === undefined || run.status === status) && (name === undefined || run.name === name) && (taskRuns !== false || run.workflowRunId === undefined);
}

/** The `want` newest index keys before `before`, over every shard, newest first. */
async function newestKeys(deps: ListDeps, name: string | undefined, before: string | undefined, want: number) {
  const shards = await Promise.all(
    Array.from({ length: LIST_SHARDS }, async (_, shard) => {
      const pk = name === undefined ? `LIST#${shard}` : `NAME#${name}#${shard}`;
      const { Items } = await deps.client.send(
        new QueryCommand({
          TableName: deps.tableName,
          IndexName: name === undefined ? LIST_INDEX : LIST_BY_NAME_INDEX,
          KeyConditionExpression: before === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :before',
          // DynamoDB rejects an expression attribute name or value the expression does not use.
          ExpressionAttributeNames: {
            '#pk': name === undefined ? LIST_INDEX_PARTITION_KEY : LIST_BY_NAME_INDEX_PARTITION_KEY,
            ...(before === undefined ? {} : { '#sk': LIST_INDEX_SORT_KEY }),
          },
          ExpressionAttributeValues: { ':pk': { S: pk }, ...(before === undefined ? {} : { ':before': { S: before } }) },
          ScanIndexForward: false,
          Limit: want,
        }),
      );
      return Items ?? [];
    }),
  );
  return shards
    .flat()
    .map((item) => {
      const sk = item[LIST_INDEX_SORT_KEY]!.S!;
      return { sk, runId: sk.slice(sk.indexOf('#') + 1), key: { [PARTITION_KEY]: item[PARTITION_KEY]!, [SORT_KEY]: item[SORT_KEY]! } };
    })
    .sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0))
    .slice(0, want);
}
