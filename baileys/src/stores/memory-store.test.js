import { MemoryStore } from './memory-store.js';
import { storeContract } from './store-contract.js';

storeContract('MemoryStore', async (opts = {}) => {
  const store = new MemoryStore(opts);
  await store.open();
  return { store, cleanup: async () => store.close() };
});
