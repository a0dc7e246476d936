import { MemoryFlowStore } from '../../sdk/adapters/memory/memory-flow.ts';
import { flowStoreContract } from './flow-store.contract.ts';

flowStoreContract('memory', async () => new MemoryFlowStore());
