import { afterAll } from 'vitest';
import { forkContract } from './fork.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

forkContract('aws adapters on dynalite + fauxqs', aws.factory);
