import { fanOutContract } from './fan-out.contract.ts';
import { memoryHarness } from './harness.ts';

fanOutContract('memory adapters', memoryHarness);
