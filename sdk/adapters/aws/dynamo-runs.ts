/**
 * Run items: created once (conditional put), read (consistent GetItem; listing through dynamo-list.ts), and
 * written by intent (sdk/ports/run-intents.ts) with one conditional UpdateItem that moves the run in the sweep
 * index as the intent says (dynamo-sweep.ts). A run output over 64 KiB lives in an item of its own
 * (dynamo-output.ts).
 */
import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DurableError } from '../../core/errors.ts';
import type { ListRunsQuery, RunIntent, RunList, RunRecord } from '../../ports.ts';
import { withCursor } from '../../ports.ts';
import type { RunCondition, RunPatch } from '../shared/run-patch.ts';
import { planIntent } from '../shared/run-intents.ts';
import { ExpressionBuilder, runConditionExpression, runUpdateExpression } from './dynamo-expressions.ts';
import { expired, fromItem, runItem, type Item } from './dynamo-items.ts';
import { RUN_SK, outputSk, runPk, sweepPk } from './dynamo-keys.ts';
import { listRunsPage } from './dynamo-list.ts';
import { OUTPUT_REF, mustSpill, spillPatch, type StoredRun } from './dynamo-output.ts';
import { isConditionalFailure } from './dynamo-put-first.ts';
import { acceptableSweepKey, sweepKey, sweepPlanFor, type SweepPlan } from './dynamo-sweep.ts';
import { BATCH_GET_SIZE, itemKey, type DynamoTable } from './dynamo-table.ts';
import { PARTITION_KEY, SORT_KEY, SWEEP_INDEX_PARTITION_KEY, SWEEP_INDEX_SORT_KEY, TTL_ATTRIBUTE } from './table-schema.ts';


export class DynamoRuns {
  constructor(
    private readonly table: DynamoTable,
    /** See `DynamoRunStoreOptions.sweepHoldMs`. */
    private readonly holdMs: number,
  ) {}

  async createRun(run: RunRecord): Promise<boolean> {
    let stored: StoredRun = run;
    if (mustSpill(run.output)) {
      const ref = await this.writeOutput(run.runId, run.output, run.ttl);
      const { output: _spilled, ...rest } = run;
      stored = { ...rest, [OUTPUT_REF]: ref };
    }
    // An expired run item (TTL deletes late) is replaced: its items stay invisible, the new run has another generation.
    return this.table.conditionalPut(runItem(stored, this.table.shards), `attribute_not_exists(#pk) OR #ttl <= :now`, { '#pk': PARTITION_KEY, '#ttl': TTL_ATTRIBUTE }, {
      ':now': { N: String(Math.floor(this.table.now() / 1000)) },
    });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const { Item } = await this.table.client.send(
      new GetItemCommand({ TableName: this.table.tableName, Key: itemKey(runPk(runId), RUN_SK), ConsistentRead: true }),
    );
    return this.liveRun(Item);
  }

  /**
   * From the listing indexes (dynamo-list.ts), never a Scan: one Query per listing shard and a BatchGetItem per
   * 100 runs, per page. A table created before the indexes existed (an old local state directory) is scanned.
   */
  async listRuns(query: ListRunsQuery): Promise<RunList> {
    try {
      const page = await listRunsPage({ client: this.table.client, tableName: this.table.tableName, readRuns: (keys) => this.readRuns(keys) }, query);
      return withCursor(page.runs, page.cursor);
    } catch (error) {
      if (!isMissingIndex(error)) throw error;
      return this.scanRuns(query);
    }
  }

  /** Run items by key (eventually consistent BatchGetItem, 100 keys each); missing and expired ones left out. */
  private async readRuns(keys: Item[]): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) {
      const items = await this.table.batchGet(keys.slice(i, i + BATCH_GET_SIZE), []);
      for (const run of await Promise.all(items.map((item) => this.liveRun(item)))) if (run) runs.push(run);
    }
    return runs;
  }

  /** The listing of a table without the listing indexes: a Scan (local tables created by an older version). */
  private async scanRuns(query: ListRunsQuery): Promise<RunList> {
    const b = new ExpressionBuilder();
    const filters = [`${b.name(SORT_KEY)} = ${b.value(RUN_SK)}`];
    if (query.status) filters.push(`${b.name('status')} = ${b.value(query.status)}`);
    if (query.name) filters.push(`${b.name('name')} = ${b.value(query.name)}`);
    if (query.taskRuns === false) filters.push(`attribute_not_exists(${b.name('workflowRunId')})`);
    const runs: RunRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.table.client.send(
        new ScanCommand({ TableName: this.table.tableName, FilterExpression: filters.join(' AND '), ...b.params(), ExclusiveStartKey: start }),
      );
      for (const run of await Promise.all((page.Items ?? []).map((item) => this.liveRun(item)))) {
        if (run) runs.push(run);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    runs.sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1));
    return query.limit === undefined ? runs : runs.slice(0, query.limit);
  }

  /**
   * One conditional UpdateItem (ReturnValues ALL_NEW) that also moves the run in the sweep index as the intent
   * says (dynamo-sweep.ts), which is exact: no second request. An output over 64 KiB is first written to its own item (see dynamo-output.ts),
   * which is deleted again if the condition fails.
   */
  async write(runId: string, intent: RunIntent): Promise<RunRecord | undefined> {
    const { patch, condition } = planIntent(intent);
    const written = await this.writeRun(runId, patch, condition, sweepPlanFor(intent, this.table.now(), this.holdMs));
    // Exact for every item this version wrote; an item left wrong by something else (an older version's guess, a
    // forged test state) is put right here, at no cost when it is right (the check reads the returned item).
    if (written) await this.repairSweepKey(written.run, written.item);
    return written?.run;
  }

  /**
   * The low-level write every intent is made of (not on the port: tests use it to forge states). It does not know
   * the intent, so it leaves the sweep index alone and then checks the returned item, repairing the key with a
   * second conditional request when it is wrong.
   */
  async updateRun(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined> {
    const written = await this.writeRun(runId, patch, condition, { type: 'keep' });
    if (written) await this.repairSweepKey(written.run, written.item);
    return written?.run;
  }

  private async writeRun(runId: string, requested: RunPatch, condition: RunCondition | undefined, sweep: SweepPlan): Promise<{ run: RunRecord; item: Item } | undefined> {
    const { spill, patch } = spillPatch(requested);
    if (spill) await this.writeOutput(runId, spill.output, patch.set?.ttl, spill.ref);
    const b = new ExpressionBuilder();
    const ConditionExpression = runConditionExpression(b, condition, this.table.now());
    const UpdateExpression = runUpdateExpression(b, patch, sweep, sweepPk(runId, this.table.shards.sweep));
    let attributes: Item | undefined;
    try {
      ({ Attributes: attributes } = await this.table.client.send(
        new UpdateItemCommand({
          TableName: this.table.tableName,
          Key: itemKey(runPk(runId), RUN_SK),
          UpdateExpression,
          ConditionExpression,
          ...b.params(),
          ReturnValues: 'ALL_NEW',
        }),
      ));
    } catch (error) {
      if (spill) await this.deleteOutput(runId, spill.ref);
      if (isConditionalFailure(error)) return undefined;
      throw error;
    }
    if (!attributes) return undefined;
    return { run: await this.withOutput(fromItem<StoredRun>(attributes), spill && { [spill.ref]: spill.output }), item: attributes };
  }

  /**
   * Makes the sweep index agree with `run` after a low-level `updateRun`. Conditional on the
   * fields the key depends on being unchanged: if they moved, a later update has recomputed the key itself.
   * A RUNNING run is right with any key up to the end of its lease, or up to now (every later sweep reads it
   * and skips it while the lease holds): a lease leaves the key where it was (dynamo-sweep.ts).
   */
  private async repairSweepKey(run: RunRecord, item: Item): Promise<void> {
    const wanted = sweepKey(run);
    const actual = item[SWEEP_INDEX_PARTITION_KEY] ? Number(item[SWEEP_INDEX_SORT_KEY]?.N ?? Number.NaN) : undefined;
    if (acceptableSweepKey(run, actual, this.table.now(), this.holdMs)) return;
    const b = new ExpressionBuilder();
    const same = (field: 'leaseUntil' | 'wakeAt') =>
      run[field] === undefined ? `attribute_not_exists(${b.name(field)})` : `${b.name(field)} = ${b.value(run[field])}`;
    const condition = [
      `${b.name('status')} = ${b.value(run.status)}`,
      `${b.name('wake')} = ${b.value(run.wake)}`,
      `${b.name('seen')} = ${b.value(run.seen)}`,
      same('leaseUntil'),
      same('wakeAt'),
    ].join(' AND ');
    const update =
      wanted === undefined
        ? `REMOVE ${b.name(SWEEP_INDEX_PARTITION_KEY)}, ${b.name(SWEEP_INDEX_SORT_KEY)}`
        : `SET ${b.name(SWEEP_INDEX_PARTITION_KEY)} = ${b.value(sweepPk(run.runId, this.table.shards.sweep))}, ${b.name(SWEEP_INDEX_SORT_KEY)} = ${b.value(wanted)}`;
    try {
      await this.table.client.send(
        new UpdateItemCommand({
          TableName: this.table.tableName,
          Key: itemKey(runPk(run.runId), RUN_SK),
          UpdateExpression: update,
          ConditionExpression: condition,
          ...b.params(),
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  /** The run of a run item, unless it expired; a spilled output is read back. */
  async liveRun(item: Item | undefined): Promise<RunRecord | undefined> {
    if (!item) return undefined;
    const stored = fromItem<StoredRun>(item);
    return expired(stored.ttl, this.table.now()) ? undefined : this.withOutput(stored);
  }

  /** Puts a spilled output back on the run (from `known` when the caller has it, else one GetItem). */
  async withOutput(stored: StoredRun, known?: Record<string, string>): Promise<RunRecord> {
    const { [OUTPUT_REF]: ref, ...run } = stored;
    if (ref === undefined) return run;
    let output = known?.[ref];
    if (output === undefined) {
      const { Item } = await this.table.client.send(
        new GetItemCommand({ TableName: this.table.tableName, Key: itemKey(runPk(run.runId), outputSk(ref)), ConsistentRead: true }),
      );
      output = Item?.output?.S;
    }
    if (output === undefined) throw new DurableError(`internal: the output of run '${run.runId}' (item ${outputSk(ref)}) is missing`);
    return { ...run, output };
  }

  private async deleteOutput(runId: string, ref: string): Promise<void> {
    await this.table.client
      .send(new DeleteItemCommand({ TableName: this.table.tableName, Key: itemKey(runPk(runId), outputSk(ref)) }))
      .catch(() => undefined); // an orphan only costs storage: loadRun ignores it and TTL (when set) removes it
  }

  /** Writes a large output to its own item (a fresh ref each time, so nothing is overwritten); returns the ref. */
  private async writeOutput(runId: string, output: string, ttl: number | undefined, ref: string = randomUUID()): Promise<string> {
    const item: Item = { [PARTITION_KEY]: { S: runPk(runId) }, [SORT_KEY]: { S: outputSk(ref) }, output: { S: output } };
    if (ttl !== undefined) item[TTL_ATTRIBUTE] = { N: String(ttl) };
    await this.table.client.send(new PutItemCommand({ TableName: this.table.tableName, Item: item }));
    return ref;
  }
}

/** DynamoDB's answer to a Query on an index the table does not have. */
function isMissingIndex(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return name === 'ValidationException' && typeof message === 'string' && /specified index|index/i.test(message) && !/cursor/.test(message);
}
