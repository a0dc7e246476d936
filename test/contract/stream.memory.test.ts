import { streamContract } from './stream.contract.ts';
import { memoryHarness } from './harness.ts';

streamContract('memory adapters', memoryHarness);
