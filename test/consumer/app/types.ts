// Type-checked in the consumer app with `tsc --strict --noEmit`, skipLibCheck false, under nodenext and bundler:
// the public types as a user sees them (unknown where no type was given, parentOutput's undefined, JSON results).
import { Durable, UserEventCondition, type Jsonified, type DagOptions, type TaskDefinition } from 'durable-tasks';
import { createTestEnvironment } from 'durable-tasks/testing';
import { DurableTasks } from 'durable-tasks/infra';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

const durable = Durable.local({ inMemory: true });

const untyped = durable.durableTask({
  name: 'untyped',
  fn: async (input, ctx) => {
    assertType<Equal<typeof input, unknown>>();
    const event = await ctx.waitForEvent('order:paid');
    assertType<Equal<typeof event, unknown>>();
    const typedEvent = await ctx.waitForEvent<{ amount: number }>('order:paid', 'input.amount > 1');
    assertType<Equal<typeof typedEvent, { amount: number }>>();
    const fired = await ctx.waitFor(new UserEventCondition('order:paid', '', 'paid'));
    assertType<Equal<typeof fired, Record<string, unknown>>>();
    const at = await ctx.step('when', () => new Date());
    assertType<Equal<typeof at, string>>();
    const row = await ctx.step('row', async () => ({ id: 1, seen: new Date(), tags: ['a'], nested: { d: new Date() } }));
    assertType<Equal<typeof row, { id: number; seen: string; tags: string[]; nested: { d: string } }>>();
    return 1;
  },
});
assertType<Equal<typeof untyped, TaskDefinition<unknown, number>>>();

const typed = durable.task({ name: 'typed', fn: (input: { n: number }) => ({ doubled: input.n * 2 }) });
assertType<Equal<Awaited<ReturnType<typeof typed.run>>, { doubled: number }>>();
const bulk = () => typed.run([{ n: 1 }, { n: 2 }]);
assertType<Equal<Awaited<ReturnType<typeof bulk>>, { doubled: number }[]>>();
const single = () => typed.run({ n: 1 }, { priority: 3 });
assertType<Equal<Awaited<ReturnType<typeof single>>, { doubled: number }>>();

const wf = durable.workflow({ name: 'wf' });
assertType<Equal<typeof wf, ReturnType<typeof durable.workflow<unknown>>>>();
const first = wf.task({ name: 'first', fn: () => ({ n: 1 }) });
wf.task({
  name: 'second',
  parents: [first],
  fn: async (_input, ctx) => {
    const parent = await ctx.parentOutput(first);
    assertType<Equal<typeof parent, { n: number } | undefined>>();
    return parent?.n ?? 0;
  },
});
type Parent = NonNullable<DagOptions['parents']>[number];
assertType<Equal<Parent, TaskDefinition<unknown, unknown>>>();
assertType<Equal<Jsonified<{ d: Date; f: () => void }>, { d: string }>>();

// Internals are not part of the published types.
// @ts-expect-error the engine is internal
void durable.engine;
// @ts-expect-error backends are chosen by Durable.local / Durable.fromEnv / createTestEnvironment
void new Durable({ backend: {} });
// @ts-expect-error the embedded worker mode is chosen by Durable.local
void Durable.fromEnv({ embeddedWorker: 'poll' });
// @ts-expect-error recovery on start belongs to Durable.local
void Durable.fromEnv({ recoverOnStart: true });
// @ts-expect-error the embedded worker's options are internal
void durable.worker('w', { workflows: [untyped], allDefinitions: true });
const env = await createTestEnvironment();
// @ts-expect-error the test environment's ports are internal
void env.backend;
await env.close();
await durable.close();

export const construct: typeof DurableTasks = DurableTasks;
