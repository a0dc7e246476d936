import { flowStrategiesContract } from './flow-strategies.contract.ts';
import { memoryHarness } from '../contract/harness.ts';

flowStrategiesContract('test environment (memory adapters)', memoryHarness);
