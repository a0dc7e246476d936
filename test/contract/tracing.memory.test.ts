import { tracingContract } from './tracing.contract.ts';
import { memoryHarness } from './harness.ts';

tracingContract('memory adapters', memoryHarness);
