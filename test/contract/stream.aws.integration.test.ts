import { afterAll } from 'vitest';
import { streamContract } from './stream.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

streamContract('aws adapters on dynalite + fauxqs', aws.factory);
