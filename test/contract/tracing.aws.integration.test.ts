import { afterAll } from 'vitest';
import { tracingContract } from './tracing.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

tracingContract('aws adapters on dynalite + fauxqs', aws.factory);
