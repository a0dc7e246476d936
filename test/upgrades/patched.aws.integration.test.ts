import { afterAll } from 'vitest';
import { awsHarnessFactory } from '../contract/harness.ts';
import { patchedContract } from './patched.contract.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

patchedContract('aws adapters on dynalite + fauxqs', aws.factory);
