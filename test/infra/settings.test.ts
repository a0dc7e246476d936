import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import { build } from './support.ts';

/** infra/constructs/settings.ts: props are checked before anything is built; shard counts reach every function. */
describe('given invalid props', () => {
  const attempt = (props: Record<string, unknown>) => () => build(props);

  it('then a missing entry file is rejected, naming the path', () => {
    expect(attempt({ entry: '/nowhere/worker.ts' })).toThrow(/entry \/nowhere\/worker\.ts does not exist/);
  });

  it('then eventRouterConcurrency outside 1..1000 or fractional is rejected', () => {
    for (const eventRouterConcurrency of [0, 1001, 2.5]) {
      expect(() => build({ eventRouterConcurrency }), String(eventRouterConcurrency)).toThrow(/eventRouterConcurrency must be an integer from 1 to 1000/);
    }
  });

  it('then durableSlots outside 2..1000 or fractional is rejected', () => {
    for (const durableSlots of [1, 1001, 2.5]) expect(attempt({ durableSlots })).toThrow(/durableSlots must be an integer from 2 to 1000/);
  });

  it('then waiterShards and sweepShards outside 1..1000 or fractional are rejected, and given ones reach every function', () => {
    for (const n of [0, 1001, 2.5]) {
      expect(attempt({ waiterShards: n })).toThrow(/waiterShards must be a whole number from 1 to 1000/);
      expect(attempt({ sweepShards: n })).toThrow(/sweepShards must be a whole number from 1 to 1000/);
    }
    const { template } = build({ waiterShards: 32, sweepShards: 16 });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.[ENV.tableName]);
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const f of functions) expect(f.Properties.Environment.Variables).toMatchObject({ [ENV.waiterShards]: '32', [ENV.sweepShards]: '16' });
  });

  it('then eventShards defaults to 1, rejects 0, 1001 and fractions, and reaches every function', () => {
    for (const n of [0, 1001, 2.5]) expect(attempt({ eventShards: n })).toThrow(/eventShards must be a whole number from 1 to 1000/);
    const fns = (t: ReturnType<typeof build>['template']) => Object.values(t.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.Environment?.Variables?.[ENV.tableName]);
    for (const f of fns(build({}).template)) expect(f.Properties.Environment.Variables[ENV.eventShards]).toBe('1');
    const sharded = fns(build({ eventShards: 8 }).template);
    expect(sharded.length).toBeGreaterThanOrEqual(3);
    for (const f of sharded) expect(f.Properties.Environment.Variables[ENV.eventShards]).toBe('8');
  });

  it('then a retention that is not whole days is rejected', () => {
    expect(attempt({ retention: Duration.hours(36) })).toThrow(/retention must be a whole number of days/);
  });

  it('then environment cannot override a DURABLE_* name the construct sets', () => {
    expect(attempt({ environment: { [ENV.tableName]: 'other' } })).toThrow(/environment cannot set DURABLE_TABLE_NAME/);
  });
});
