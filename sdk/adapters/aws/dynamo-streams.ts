/**
 * A run's stream chunks (`ctx.putStream`) on DynamoDB: one item per chunk under the run's partition,
 * `RUN#<runId>` / `STREAM#<generation>#<seq>` (seq zero-padded, so the sort key orders chunks). Each holds the
 * journal entry that recorded it (kind `stream`, its position, the chunk as JSON text), with the run's
 * generation and item TTL like every other item of the run (sdk/core/run-scope.ts).
 *
 * - `put`: one PutItem with `attribute_not_exists` (first wins on a seq); the loser reads the winner back from the
 *   failed condition (`ReturnValuesOnConditionCheckFailure`), or with a consistent GetItem (dynalite).
 * - `read`: one Query from just after the last sort key a subscriber saw, `Limit` chunks, strongly consistent.
 * `loadRun` reads the chunks with the rest of the partition (its one paginated Query), so no extra request.
 */
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DurableError } from '../../core/errors.ts';
import type { JournalEntry } from '../../ports.ts';
import { pad, runPk } from './dynamo-keys.ts';
import { expired, fromItem, toItem, type Item } from './dynamo-items.ts';
import { putFirst } from './dynamo-put-first.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

/** Sort-key prefix of a run's stream chunks. */
export const STREAM_PREFIX = 'STREAM#';
const SEQ_DIGITS = 10;

/** Sort key of chunk `seq` of the run incarnation `generation`. */
export function streamSk(seq: number, generation?: string): string {
  return `${STREAM_PREFIX}${generation === undefined ? '' : `${generation}#`}${pad(seq, SEQ_DIGITS)}`;
}

export function streamItem(runId: string, entry: JournalEntry): Item {
  return toItem(entry, { [PARTITION_KEY]: runPk(runId), [SORT_KEY]: streamSk(entry.seq ?? 0, entry.generation) });
}

/** Stream chunks of one table. */
export class DynamoStreams {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number,
  ) {}

  async put(runId: string, entry: JournalEntry): Promise<{ won: boolean; entry: JournalEntry }> {
    if (!Number.isInteger(entry.seq) || entry.seq! < 1) throw new DurableError(`internal: stream chunk of run '${runId}' without a seq`);
    const item = streamItem(runId, entry);
    const existing = await putFirst(this.client, this.tableName, item, `stream chunk ${entry.seq} of run '${runId}'`);
    return existing ? { won: false, entry: fromItem<JournalEntry>(existing) } : { won: true, entry: fromItem<JournalEntry>(item) };
  }

  /** One Query: chunks after `afterSeq`, oldest first, at most `limit`. */
  async read(runId: string, generation: string | undefined, afterSeq: number, limit: number): Promise<JournalEntry[]> {
    const now = this.now();
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
        ExpressionAttributeValues: {
          ':pk': { S: runPk(runId) },
          ':from': { S: streamSk(afterSeq + 1, generation) },
          ':to': { S: streamSk(10 ** SEQ_DIGITS - 1, generation) },
        },
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (page.Items ?? []).map((item) => fromItem<JournalEntry>(item)).filter((c) => c.generation === generation && !expired(c.ttl, now));
  }
}
