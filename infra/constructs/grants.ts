/**
 * Every IAM permission the construct hands out, statement by statement (the actions are in access.ts): the
 * engine's own (worker, router, sweeper roles) and what the public `grant*` methods give a grantee. Each grant of a
 * wildcard resource acknowledges that one cdk-nag finding beside it (nag.ts).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  EVENT_DETAIL_TYPE,
  EVENT_SEQUENCE_KEY_PREFIX,
  EVENT_SOURCE,
  LIST_BY_NAME_INDEX,
  LIST_INDEX,
  RATE_KEY_PREFIX,
  RUN_KEY_PREFIX,
  SWEEP_INDEX,
  WAITER_KEY_PREFIX,
} from '../../sdk/adapters/aws/env.ts';
import {
  LIST_RUN_ACTIONS,
  SCHEDULE_WRITE_ACTIONS,
  START_RUN_ACTIONS,
  SWEEP_TABLE_ACTIONS,
  TABLE_INDEX_ACTIONS,
  TABLE_ITEM_ACTIONS,
} from './access.ts';
import { grantCronAccess } from './cron-grants.ts';
import { type EnvironmentResources, setEnvironment } from './environment.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import { grantPayloads } from './payload-bucket.ts';
import { SCHEDULER_SERVICE, schedulesArn } from './scheduler.ts';

/** The resources grants are about, and the environment Lambda grantees get. */
export interface GrantResources extends EnvironmentResources {
  readonly environment: Readonly<Record<string, string>>;
}

/** The three functions, by their execution roles. */
export interface EngineRoles {
  readonly worker: { readonly role: iam.Role };
  readonly router: { readonly role: iam.Role };
  readonly sweeper: { readonly role: iam.Role };
}

/**
 * The engine's own permissions: the worker and the router replay runs (item operations, the sweep index,
 * dispatching, schedules, events, payloads); the sweeper only reads and dispatches.
 */
export function grantEngine(resources: GrantResources, functions: EngineRoles): void {
  for (const { role } of [functions.worker, functions.router]) {
    grantRuntime(resources, role);
    grantReplay(resources, role);
    grantPayloads(resources.payloadBucket, role);
  }
  grantSweep(resources, functions.sweeper.role);
}

/** `DurableTasks.grantPush`: PutEvents of durable-tasks events, UpdateItem on `EVTSEQ#` items. */
export function grantPush(resources: GrantResources, grantee: iam.IGrantable): iam.Grant {
  const put = grantPutEvents(resources, grantee);
  const sequence = iam.Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:UpdateItem'],
    resourceArns: [resources.table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${EVENT_SEQUENCE_KEY_PREFIX}*`] } },
  });
  setEnvironment(grantee, resources.environment);
  return put.combine(sequence);
}

/** `DurableTasks.grantRateLimits`: UpdateItem on `RATE#` items. */
export function grantRateLimits(resources: GrantResources, grantee: iam.IGrantable): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:UpdateItem'],
    resourceArns: [resources.table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_KEY_PREFIX}*`] } },
  });
  setEnvironment(grantee, resources.environment);
  return grant;
}

/** `DurableTasks.grantStart`: run and waiter-key items, dispatching, schedules, passing the role, payloads, listing. */
export function grantStart(resources: GrantResources, grantee: iam.IGrantable): iam.Grant {
  const items = iam.Grant.addToPrincipal({
    grantee,
    actions: [...START_RUN_ACTIONS],
    resourceArns: [resources.table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`, `${WAITER_KEY_PREFIX}*`] } },
  });
  const send = iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [resources.queue.queueArn] });
  const schedules = iam.Grant.addToPrincipal({
    grantee,
    actions: [...SCHEDULE_WRITE_ACTIONS],
    resourceArns: [schedulesArn(resources.scheduleGroup)],
  });
  const pass = iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:PassRole'],
    resourceArns: [resources.schedulerRole.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
  });
  const policy = grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : undefined;
  if (policy) acknowledgeSchedules(resources, policy);
  // A large input is put before the run item; result() and runs.get read a large output.
  const payloads = grantPayloads(resources.payloadBucket, grantee);
  setEnvironment(grantee, resources.environment);
  return items.combine(send).combine(schedules).combine(pass).combine(payloads).combine(grantList(resources, grantee));
}

/** `DurableTasks.grantList`: Query on the two listing indexes, BatchGetItem on `RUN#` items. */
export function grantList(resources: GrantResources, grantee: iam.IGrantable): iam.Grant {
  const indexes = iam.Grant.addToPrincipal({
    grantee,
    actions: [...TABLE_INDEX_ACTIONS],
    resourceArns: [LIST_INDEX, LIST_BY_NAME_INDEX].map((index) => `${resources.table.tableArn}/index/${index}`),
  });
  const runs = iam.Grant.addToPrincipal({
    grantee,
    actions: [...LIST_RUN_ACTIONS],
    resourceArns: [resources.table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`] } },
  });
  setEnvironment(grantee, resources.environment);
  return indexes.combine(runs);
}

/** `DurableTasks.grantCrons`: cron-grants.ts, plus the environment. */
export function grantCrons(resources: GrantResources, grantee: iam.IGrantable): iam.Grant {
  const grant = grantCronAccess(grantee, resources);
  setEnvironment(grantee, resources.environment);
  return grant;
}

/**
 * What replaying user code needs besides the runtime grants: create and delete its schedules (sleeps over
 * 15 minutes; an Or-group's winner cancels the loser's timer), pass the scheduler role to Scheduler only, and
 * push durable-tasks events (`durable.events.push` inside a task).
 */
function grantReplay(resources: GrantResources, role: iam.Role): void {
  role.addToPolicy(new iam.PolicyStatement({ actions: [...SCHEDULE_WRITE_ACTIONS], resources: [schedulesArn(resources.scheduleGroup)] }));
  acknowledgeSchedules(resources, role);
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [resources.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': SCHEDULER_SERVICE } },
    }),
  );
  grantPutEvents(resources, role);
}

/** What the worker and the router need: the engine's item operations, index queries, dispatching. */
function grantRuntime(resources: GrantResources, role: iam.IRole): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...TABLE_ITEM_ACTIONS], resources: [resources.table.tableArn] }));
  grantIndexQueryAndDispatch(resources, role);
}

/**
 * The sweeper only reads: the sweep index, then the candidate runs (BatchGetItem on `RUN#` items); then it
 * dispatches. It writes no item (test/infra/recorded-grants.integration.test.ts records what a sweep sends).
 */
function grantSweep(resources: GrantResources, role: iam.IRole): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...SWEEP_TABLE_ACTIONS],
      resources: [resources.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RUN_KEY_PREFIX}*`] } },
    }),
  );
  grantIndexQueryAndDispatch(resources, role);
}

function grantIndexQueryAndDispatch(resources: GrantResources, role: iam.IRole): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...TABLE_INDEX_ACTIONS],
      // The sweep index only: the engine never lists runs (grantList does).
      resources: [`${resources.table.tableArn}/index/${SWEEP_INDEX}`],
    }),
  );
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [resources.queue.queueArn] }));
}

function acknowledgeSchedules(resources: GrantResources, role: iam.Role): void {
  acknowledgeWildcardResource(
    role,
    schedulesArn(resources.scheduleGroup),
    'Timer schedules are created at run time, one per timer, with generated names: the resource is every ' +
      "schedule in durable-tasks' own schedule group and nothing outside it.",
  );
}

function grantPutEvents(resources: GrantResources, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['events:PutEvents'],
    resourceArns: [resources.eventBus.eventBusArn],
    conditions: { StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': EVENT_DETAIL_TYPE } },
  });
}
