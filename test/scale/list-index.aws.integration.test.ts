import { afterAll } from 'vitest';
import { awsHarnessFactory } from '../contract/harness.ts';
import { listIndexContract } from './list-index.contract.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

listIndexContract('aws adapters on dynalite + fauxqs', aws.factory);
