import { leaseContract } from './lease.contract.ts';
import { memoryHarness } from './harness.ts';

leaseContract('memory adapters', memoryHarness);
