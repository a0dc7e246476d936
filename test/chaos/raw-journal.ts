/**
 * The journal as stored, before `mergeJournal`: each entry item's own entry (not the copies it carries, not the
 * run item's parked entries). `loadRun` merges to one entry per position, so a check for two entries at one
 * position must look here to be able to fail.
 */
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MemoryRunStore } from '../../sdk/adapters/memory/index.ts';
import { entryOf } from '../../sdk/adapters/aws/dynamo-items.ts';
import { ENTRY_PREFIX, runPk } from '../../sdk/adapters/aws/dynamo-keys.ts';
import type { JournalEntry } from '../../sdk/ports.ts';

/** The memory store's entry items (its private slots: this is an inspection for tests only). */
export async function memoryRawEntries(store: MemoryRunStore, runId: string): Promise<JournalEntry[]> {
  const slots = (store as unknown as { runs: Map<string, { entries: Map<string, JournalEntry> }> }).runs;
  return [...(slots.get(runId)?.entries.values() ?? [])].map((e) => ({ ...e }));
}

/** Every `OP#` item of the run's partition (consistent, paginated Query), decoded. */
export async function dynamoRawEntries(client: DynamoDBClient, tableName: string, runId: string): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :op)',
        ExpressionAttributeValues: { ':pk': { S: runPk(runId) }, ':op': { S: ENTRY_PREFIX } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) out.push(entryOf(item).entry);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
