/**
 * The construct's props, checked and completed with their defaults in one place, before anything is built: every
 * part (queues, functions, environment, alarms) reads the same resolved values.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ENV } from '../../sdk/adapters/aws/env.ts';
import type { DurableTasksProps } from './durable-tasks-props.ts';

/** {@link DurableTasksProps} with every default applied and every bound checked. */
export interface DurableSettings {
  /** Absolute path of the user's worker module. */
  readonly userEntry: string;
  readonly durableSlots: number;
  readonly routerConcurrency: number;
  readonly retentionDays: number;
  readonly removalPolicy: RemovalPolicy;
  readonly workerTimeout: Duration;
  readonly workerMemorySize: number;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration | undefined;
  readonly maxReceiveCount: number;
  readonly queueAgeAlarmThreshold: Duration;
  readonly maxPayloadBytes: number;
  readonly waiterShards: number;
  readonly sweepShards: number;
  readonly eventShards: number;
  readonly bundleAwsSdk: boolean;
  readonly architecture: lambda.Architecture;
  readonly logRetention: logs.RetentionDays;
  /** The user's extra function environment (never a name the construct owns). */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Checks `props` and applies the defaults.
 * @throws Error when `entry` does not exist, `durableSlots` is not an integer from 2 to 1000,
 *   `eventRouterConcurrency` is not an integer from 1 to 1000, `retention` is not a whole number of days (at least 1),
 *   `environment` sets a name the construct owns, `maxPayloadBytes` is not an integer from 1 to 512 MiB, or a shard
 *   count is not a whole number from 1 to 1000 (checked in that order).
 */
export function resolveSettings(props: DurableTasksProps): DurableSettings {
  const userEntry = resolve(props.entry);
  if (!existsSync(userEntry)) {
    throw new Error(`DurableTasks: entry ${userEntry} does not exist; pass the path of your worker module.`);
  }
  const durableSlots = props.durableSlots ?? 10;
  if (!Number.isInteger(durableSlots) || durableSlots < 2 || durableSlots > 1000) {
    throw new Error(`DurableTasks: durableSlots must be an integer from 2 to 1000 (SQS maxConcurrency), got ${durableSlots}.`);
  }
  const routerConcurrency = props.eventRouterConcurrency ?? durableSlots;
  if (!Number.isInteger(routerConcurrency) || routerConcurrency < 1 || routerConcurrency > 1000) {
    throw new Error(`DurableTasks: eventRouterConcurrency must be an integer from 1 to 1000, got ${routerConcurrency}.`);
  }
  const retentionDays = (props.retention ?? Duration.days(30)).toDays({ integral: false });
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new Error(`DurableTasks: retention must be a whole number of days, at least 1, got ${retentionDays}.`);
  }
  const owned = Object.keys(props.environment ?? {}).filter((name) => (Object.values(ENV) as string[]).includes(name));
  if (owned.length > 0) {
    throw new Error(`DurableTasks: environment cannot set ${owned.join(', ')}: the construct sets it.`);
  }
  const maxPayloadBytes = props.maxPayloadBytes ?? 32 * 1024 * 1024;
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1 || maxPayloadBytes > 512 * 1024 * 1024) {
    throw new Error(`DurableTasks: maxPayloadBytes must be an integer from 1 to 536870912 (512 MiB), got ${maxPayloadBytes}.`);
  }
  return {
    userEntry,
    durableSlots,
    routerConcurrency,
    retentionDays,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    workerTimeout: props.workerTimeout ?? Duration.minutes(1),
    workerMemorySize: props.workerMemorySize ?? 1024,
    batchSize: props.batchSize ?? 10,
    maxBatchingWindow: props.maxBatchingWindow,
    maxReceiveCount: props.maxReceiveCount ?? 5,
    queueAgeAlarmThreshold: props.queueAgeAlarmThreshold ?? Duration.minutes(30),
    maxPayloadBytes,
    waiterShards: shardProp('waiterShards', props.waiterShards),
    sweepShards: shardProp('sweepShards', props.sweepShards),
    eventShards: shardProp('eventShards', props.eventShards, 1),
    bundleAwsSdk: props.bundleAwsSdk ?? false,
    architecture: props.architecture ?? lambda.Architecture.ARM_64,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    environment: props.environment ?? {},
  };
}

/** A shard-count prop, checked (a whole number from 1 to 1000), or its default (4). */
function shardProp(name: string, value: number | undefined, fallback = 4): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw new Error(`DurableTasks: ${name} must be a whole number from 1 to 1000, got ${value}.`);
  return value;
}
