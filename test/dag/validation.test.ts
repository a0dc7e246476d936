/** A broken DAG fails where it is defined, with a typed error naming the task. */
import { describe, expect, test } from 'vitest';
import {
  InvalidDefinitionError,
  InvalidDurationError,
  InvalidExpressionError,
  Or,
  ParentCondition,
  SleepCondition,
} from 'durable-tasks';
import { durable, useDagEnvironment } from './fixture.ts';

useDagEnvironment();

const fn = async () => 1;

function expectError(define: () => unknown, type: new (...args: any[]) => Error, ...fragments: (string | RegExp)[]) {
  let caught: unknown;
  try {
    define();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(type);
  for (const fragment of fragments) expect((caught as Error).message).toMatch(fragment);
}

describe('definition-time validation', () => {
  test('unknown parent: a task of this workflow that is not added yet, or a look-alike object', () => {
    const wf = durable.workflow({ name: 'w' });
    const scratch = durable.workflow({ name: 'scratch' });
    const a = wf.task({ name: 'a', fn });
    expectError(() => wf.task({ name: 'b', parents: [{ name: 'a' } as any], fn }), InvalidDefinitionError, "task 'b' of workflow 'w'", /not a task definition/);
    expectError(() => wf.task({ name: 'c', parents: [{ name: 'ghost' } as any], fn }), InvalidDefinitionError, "task 'c'", /ghost/);
    const ghost = scratch.task({ name: 'ghost', fn });
    (ghost as any).workflow = wf; // a definition pretending to belong to `wf` without having been added
    expectError(() => wf.task({ name: 'd', parents: [a, ghost], fn }), InvalidDefinitionError, "task 'd' of workflow 'w'", "parent 'ghost' is not a task of this workflow");
  });

  test('a parent from another workflow, or a standalone task', () => {
    const one = durable.workflow({ name: 'one' });
    const two = durable.workflow({ name: 'two' });
    const x = one.task({ name: 'x', fn });
    two.task({ name: 'x', fn }); // same name in `two` does not make `one`'s x a parent candidate
    expectError(() => two.task({ name: 'y', parents: [x], fn }), InvalidDefinitionError, "task 'y' of workflow 'two'", "belongs to workflow 'one'");
    const standalone = durable.task({ name: 'solo', fn });
    expectError(() => two.task({ name: 'z', parents: [standalone], fn }), InvalidDefinitionError, "task 'z'", /standalone task/);
  });

  test('a cycle made by mutating parents after definition is caught at the next definition and at run time', async () => {
    const wf = durable.workflow({ name: 'cyclic' });
    const a = wf.task({ name: 'a', fn });
    const b = wf.task({ name: 'b', parents: [a], fn });
    (a.spec.parents as string[]).push('b');
    expectError(() => wf.task({ name: 'c', parents: [b], fn }), InvalidDefinitionError, /cycle/, /'a'|a → b/);
    await expect(wf.run({})).rejects.toMatchObject({ name: 'InvalidDefinitionError', message: expect.stringMatching(/workflow 'cyclic' has a cycle: (a → b → a|b → a → b)/) });
  });

  test('a self-cycle and an unknown name introduced by mutation', async () => {
    const wf = durable.workflow({ name: 'self' });
    const a = wf.task({ name: 'a', fn });
    (a.spec.parents as string[]).push('a');
    await expect(wf.run({})).rejects.toThrow(/cycle: a → a/);
    (a.spec.parents as string[]).splice(0, 1, 'nope');
    await expect(wf.run({})).rejects.toThrow("task 'a' of workflow 'self' names parent 'nope'");
  });

  test('a ParentCondition on a task that is not a parent (class and object forms, in every gate)', () => {
    const wf = durable.workflow({ name: 'pc' });
    const a = wf.task({ name: 'a', fn });
    const b = wf.task({ name: 'b', fn });
    expectError(() => wf.task({ name: 'c', parents: [a], skipIf: new ParentCondition(b, 'output > 1'), fn }), InvalidDefinitionError, "task 'c' of workflow 'pc'", "names 'b', which is not one of its parents ('a')");
    expectError(() => wf.task({ name: 'd', parents: [a], waitFor: Or({ sleepFor: '1s' }, { parent: b, expression: 'true' }), fn }), InvalidDefinitionError, "task 'd'", /waitFor names 'b'/);
    expectError(() => wf.task({ name: 'e', cancelIf: [new ParentCondition(a)], fn }), InvalidDefinitionError, "task 'e'", /cancelIf names 'a'.*\(none\)/);
  });

  test('bad CEL in an object-form condition names the task and the expression', () => {
    const wf = durable.workflow({ name: 'cel' });
    const a = wf.task({ name: 'a', fn });
    expectError(() => wf.task({ name: 'b', parents: [a], skipIf: { parent: a, expression: 'output.x >' }, fn }), InvalidExpressionError, "task 'b' of workflow 'cel'", "'output.x >'");
    expectError(() => wf.task({ name: 'c', parents: [a], waitFor: { eventKey: 'k', expression: 'input.(' }, fn }), InvalidExpressionError, "task 'c'");
    // The class form throws where it is constructed, before any task exists to name.
    expect(() => new ParentCondition(a, 'output.x >')).toThrow(InvalidExpressionError);
    expect(() => wf.task({ name: 'd', parents: [a], skipIf: { parent: a, expression: 'output.x + 1' }, fn })).toThrow(InvalidExpressionError);
  });

  test('bad durations in conditions and options name the task', () => {
    const wf = durable.workflow({ name: 'dur' });
    expectError(() => wf.task({ name: 'a', waitFor: { sleepFor: '5 parsecs' }, fn }), InvalidDurationError, "task 'a' of workflow 'dur'", /5 parsecs/);
    expectError(() => wf.task({ name: 'b', executionTimeout: -1, fn }), InvalidDurationError, "task 'b'");
    expect(() => new SleepCondition('-1s')).toThrow(InvalidDurationError);
  });

  test('names: duplicates in a workflow, the reserved separator, an empty name', () => {
    const wf = durable.workflow({ name: 'names' });
    wf.task({ name: 'a', fn });
    expect(() => wf.task({ name: 'a', fn })).toThrow(InvalidDefinitionError);
    expect(() => wf.task({ name: 'x/y', fn })).toThrow(/cannot contain '\/'/);
    expect(() => wf.task({ name: '', fn })).toThrow(InvalidDefinitionError);
    expect(() => durable.workflow({ name: 'names' })).toThrow(InvalidDefinitionError);
  });

  test('a failed definition leaves the workflow unchanged and usable', async () => {
    const wf = durable.workflow({ name: 'intact' });
    const a = wf.task({ name: 'a', fn });
    expect(() => wf.task({ name: 'b', parents: [a], skipIf: { parent: a, expression: '(' }, fn })).toThrow();
    wf.task({ name: 'b', parents: [a], fn: async () => 2 });
    expect(await wf.run({})).toEqual({ a: 1, b: 2 });
  });
});
