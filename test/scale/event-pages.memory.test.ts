import { MemoryRunStore } from '../../sdk/adapters/memory/memory-store.ts';
import { eventPagesContract } from './event-pages.contract.ts';

eventPagesContract('memory', async () => ({ store: new MemoryRunStore(), shards: 1 }));
