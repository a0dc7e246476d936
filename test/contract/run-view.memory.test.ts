import { runViewContract } from './run-view.contract.ts';
import { memoryHarness } from './harness.ts';

runViewContract('memory adapters', memoryHarness);
