import { afterAll } from 'vitest';
import { engineContract } from './engine.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

engineContract('aws adapters on dynalite + fauxqs', aws.factory);
