/**
 * Journals: entry items (first-wins conditional put, dynamo-put-first.ts), a retrying step's entry moved forward
 * by a conditional update, DAG task states, and `loadRun`: one paged Query of the run's partition that returns the
 * run with its journal (entry items, what they carry, parked entries, stream chunks), waiters and task states.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { JournalEntry, LoadedRun, RunStatus, TaskState, Waiter } from '../../ports.ts';
import { mergeJournal, type EntryItem } from '../shared/merge-journal.ts';
import { ExpressionBuilder } from './dynamo-expressions.ts';
import { entryItem, entryOf, expired, fromItem, taskItem, toStorable } from './dynamo-items.ts';
import { ENTRY_PREFIX, OUTPUT_PREFIX, RUN_SK, TASK_PREFIX, WAITER_PREFIX, entrySk, runPk } from './dynamo-keys.ts';
import type { StoredRun } from './dynamo-output.ts';
import { isConditionalFailure, putFirst } from './dynamo-put-first.ts';
import type { DynamoRuns } from './dynamo-runs.ts';
import { STREAM_PREFIX } from './dynamo-streams.ts';
import { itemKey, type DynamoTable } from './dynamo-table.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

/** Every field of a JournalEntry (`updateRetryingEntry` sets or removes each). */
const ENTRY_FIELDS = ['attempt', 'position', 'kind', 'name', 'status', 'result', 'error', 'stepAttempt', 'retryAt', 'dueAt', 'resolvedBy', 'eventIds', 'createdAt', 'generation', 'ttl', 'seq'] as const satisfies readonly (keyof JournalEntry)[];
// A field added to JournalEntry and not listed above fails to compile here.
const ENTRY_FIELDS_COMPLETE: [Exclude<keyof JournalEntry, (typeof ENTRY_FIELDS)[number]>] extends [never] ? true : never = true;
void ENTRY_FIELDS_COMPLETE;

export class DynamoJournal {
  constructor(
    private readonly table: DynamoTable,
    private readonly runs: DynamoRuns,
  ) {}

  async loadRun(runId: string): Promise<LoadedRun | undefined> {
    const now = this.table.now();
    let stored: StoredRun | undefined;
    const outputs: Record<string, string> = {};
    // Every item under the run's key, of every incarnation: only the run item's is kept below.
    const entries: EntryItem[] = [];
    const waiters: Waiter[] = [];
    const tasks: TaskState[] = [];
    const chunks: EntryItem[] = [];
    for await (const item of this.table.query({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      ExpressionAttributeValues: { ':pk': { S: runPk(runId) } },
      ConsistentRead: true,
    })) {
      const sk = item[SORT_KEY]?.S ?? '';
      if (sk === RUN_SK) stored = fromItem<StoredRun>(item);
      else if (sk.startsWith(OUTPUT_PREFIX)) outputs[sk.slice(OUTPUT_PREFIX.length)] = item.output?.S ?? '';
      else if (sk.startsWith(ENTRY_PREFIX)) entries.push(entryOf(item));
      else if (sk.startsWith(WAITER_PREFIX)) waiters.push(fromItem<Waiter>(item));
      else if (sk.startsWith(TASK_PREFIX)) tasks.push(fromItem<TaskState>(item));
      else if (sk.startsWith(STREAM_PREFIX)) chunks.push({ entry: fromItem<JournalEntry>(item) });
    }
    if (!stored || expired(stored.ttl, now)) return undefined;
    const generation = stored.generation;
    const live = (item: { generation?: string | undefined; ttl?: number | undefined }) => item.generation === generation && !expired(item.ttl, now);
    const journal = mergeJournal(
      [...chunks, ...entries].filter((e) => live(e.entry)),
      stored.parkedEntries,
    );
    return {
      run: await this.runs.withOutput(stored, outputs),
      entries: journal.entries,
      parked: journal.parked,
      waiters: waiters.filter(live),
      tasks: tasks.filter(live),
    };
  }

  /**
   * PutItem with `attribute_not_exists`. The loser reads the winner back from the failed condition
   * (`ReturnValuesOnConditionCheckFailure`), or with a consistent GetItem where that is not supported.
   */
  async recordEntry(runId: string, entry: JournalEntry, carried: readonly JournalEntry[] = []): Promise<{ won: boolean; entry: JournalEntry; carried: JournalEntry[] }> {
    const item = entryItem(runId, entry, carried);
    const existing = await putFirst(this.table.client, this.table.tableName, item, `journal entry ${entry.attempt}/${entry.position} of run '${runId}'`);
    return existing ? { won: false, ...entryOf(existing) } : { won: true, ...entryOf(item) };
  }

  async updateRetryingEntry(runId: string, entry: JournalEntry, expectedStepAttempt: number): Promise<boolean> {
    const b = new ExpressionBuilder();
    const sets: string[] = [];
    const removes: string[] = [];
    const fields = entry as unknown as Record<string, unknown>;
    for (const field of ENTRY_FIELDS) {
      if (field === 'attempt' || field === 'position' || field === 'generation') continue; // the key
      const value = fields[field];
      if (value === undefined) removes.push(b.name(field));
      else sets.push(`${b.name(field)} = ${b.value(toStorable(field, value))}`);
    }
    const condition = `${b.name('status')} = ${b.value('retrying')} AND ${b.name('stepAttempt')} = ${b.value(expectedStepAttempt)}`;
    try {
      await this.table.client.send(
        new UpdateItemCommand({
          TableName: this.table.tableName,
          Key: itemKey(runPk(runId), entrySk(entry.attempt, entry.position, entry.generation)),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ...b.params(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async putTaskState(state: TaskState, expectedStatus?: RunStatus | readonly RunStatus[]): Promise<boolean> {
    if (expectedStatus === undefined) {
      return this.table.conditionalPut(taskItem(state), 'attribute_not_exists(#pk)', { '#pk': PARTITION_KEY });
    }
    const allowed = typeof expectedStatus === 'string' ? [expectedStatus] : expectedStatus;
    if (allowed.length === 0) return false;
    const b = new ExpressionBuilder();
    const condition = `${b.name('status')} IN (${allowed.map((s) => b.value(s)).join(', ')})`;
    return this.table.conditionalPut(taskItem(state), condition, b.names, b.values);
  }
}
