import { eventOrderContract } from './event-order.contract.ts';
import { memoryHarness } from './harness.ts';

eventOrderContract('memory adapters', memoryHarness);
