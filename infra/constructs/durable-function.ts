import { type Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bundlingOptions } from './bundling.ts';

/** Settings of one durable-tasks Lambda function (internal: DurableTasks builds three). */
export interface DurableFunctionProps {
  readonly description: string;
  /** Absolute path of the handler file under functions/. */
  readonly handlerEntry: string;
  /** Absolute path of the user's worker module, aliased into the bundle. */
  readonly userEntry: string;
  readonly bundleAwsSdk: boolean;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly architecture: lambda.Architecture;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Asynchronous invocations (EventBridge): how many times Lambda retries a failed one. */
  readonly retryAttempts?: number;
  /** Asynchronous invocations: where an event goes once its retries are spent. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Most concurrent executions (reserved concurrency). @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A NodejsFunction with its own role and log group, and nothing else: no managed policy (the role gets only
 * `logs:CreateLogStream`/`logs:PutLogEvents` on its own log group; DurableTasks adds the rest statement by
 * statement), bundled by the local esbuild.
 */
export class DurableFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DurableFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: props.handlerEntry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      retryAttempts: props.retryAttempts,
      deadLetterQueue: props.deadLetterQueue,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      bundling: bundlingOptions(props.userEntry, props.bundleAwsSdk),
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: bundles target node22 and the project is tested on it; moving to a newer ' +
        'runtime is a deliberate, tested change rather than whatever is newest at synth time.',
    });
  }
}
