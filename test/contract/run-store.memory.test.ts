import { MemoryRunStore } from '../../sdk/adapters/memory/memory-store.ts';
import { runStoreContract } from './run-store.contract.ts';

runStoreContract('memory', async () => ({ store: new MemoryRunStore(), close: async () => undefined }));
