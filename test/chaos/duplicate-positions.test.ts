/**
 * The chaos suite's duplicate-position check reads the journal as stored. `loadRun` merges the journal to one
 * entry per position (`mergeJournal`), so a check on its result could never see two outcomes at one position;
 * these tests store two entry items for one position, as a broken key scheme or a broken first-wins write
 * would, and show that the merged view hides them and the raw view reports them, on memory and on dynalite.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { MemoryRunStore } from '../../sdk/adapters/memory/index.ts';
import { DynamoRunStore } from '../../sdk/adapters/aws/dynamo-store.ts';
import { entryItem } from '../../sdk/adapters/aws/dynamo-items.ts';
import { ensureTable } from '../../sdk/adapters/aws/table-setup.ts';
import type { JournalEntry, RunRecord } from '../../sdk/ports.ts';
import { dynamoClient, startDynalite, type LocalServer } from '../support/servers.ts';
import { duplicatePositions } from './invariants.ts';
import { dynamoRawEntries, memoryRawEntries } from './raw-journal.ts';

const NOW = Date.UTC(2030, 0, 1);
const run: RunRecord = { runId: 'dup-1', name: 'task', status: 'RUNNING', input: '{}', createdAt: NOW, updatedAt: NOW, attempt: 0, wake: 0, seen: 0, runningMs: 0 };
const won: JournalEntry = { attempt: 0, position: 0, kind: 'step', name: 'charge', status: 'done', result: '1', createdAt: NOW };
const second: JournalEntry = { ...won, result: '2' };

describe('duplicate journal positions are detectable', () => {
  test('memory: two entry items at one position are hidden by loadRun and reported from the raw entries', async () => {
    const store = new MemoryRunStore(undefined, () => NOW);
    await store.createRun(run);
    await store.recordEntry(run.runId, won);
    expect(duplicatePositions(run.runId, await memoryRawEntries(store, run.runId))).toEqual([]);
    // A second item for (0, 0) under another key: what a broken first-wins write would leave.
    const slots = (store as unknown as { runs: Map<string, { entries: Map<string, JournalEntry> }> }).runs;
    slots.get(run.runId)!.entries.set('0:0:again', second);

    const merged = (await store.loadRun(run.runId))!.entries;
    expect(merged).toHaveLength(1);
    expect(duplicatePositions(run.runId, merged)).toEqual([]);
    const raw = duplicatePositions(run.runId, await memoryRawEntries(store, run.runId));
    expect(raw).toHaveLength(1);
    expect(raw[0]).toContain('two journal entries at attempt 0 position 0');
  });

  let dynalite: LocalServer | undefined;
  afterAll(async () => dynalite?.stop());

  test('dynalite: an entry item under a second sort key for the same position is reported from the raw Query', async () => {
    dynalite = await startDynalite();
    const client = dynamoClient(dynalite.endpoint);
    try {
      const tableName = `dup-${randomUUID().slice(0, 8)}`;
      await ensureTable(client, tableName);
      const store = new DynamoRunStore({ client, tableName, now: () => NOW });
      await store.createRun(run);
      await store.recordEntry(run.runId, won);
      expect(duplicatePositions(run.runId, await dynamoRawEntries(client, tableName, run.runId))).toEqual([]);
      // The same (attempt, position) under an unpadded sort key: a key scheme that maps one position to two items.
      await client.send(new PutItemCommand({ TableName: tableName, Item: { ...entryItem(run.runId, second), sk: { S: 'OP#0#0' } } }));

      const merged = (await store.loadRun(run.runId))!.entries;
      expect(merged.filter((e) => e.position === 0)).toHaveLength(1);
      expect(duplicatePositions(run.runId, merged)).toEqual([]);
      const raw = duplicatePositions(run.runId, await dynamoRawEntries(client, tableName, run.runId));
      expect(raw).toHaveLength(1);
    } finally {
      client.destroy();
    }
  });
});
