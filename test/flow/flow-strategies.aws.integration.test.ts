import { afterAll } from 'vitest';
import { flowStrategiesContract } from './flow-strategies.contract.ts';
import { awsHarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

flowStrategiesContract('aws adapters on dynalite + fauxqs (the embedded default)', aws.factory);
