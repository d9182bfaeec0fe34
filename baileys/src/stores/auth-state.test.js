import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeCacheableSignalKeyStore, proto } from 'baileys';
import { memoryLogger } from '../testing/harness.js';
import { loadAuthState } from './auth-state.js';
import { MemoryStore } from './memory-store.js';

describe('loadAuthState', () => {
  it('starts with fresh creds and persists them on saveCreds', async () => {
    const store = new MemoryStore();
    const auth = await loadAuthState(store, 's1');
    assert.equal(auth.state.creds.registered, false);
    assert.ok(Buffer.isBuffer(auth.state.creds.noiseKey.private));
    auth.state.creds.me = { id: '5511900000001:2@s.whatsapp.net' };
    await auth.saveCreds();
    const again = await loadAuthState(store, 's1');
    assert.equal(again.state.creds.me.id, '5511900000001:2@s.whatsapp.net');
    assert.deepEqual(again.state.creds.noiseKey.private, auth.state.creds.noiseKey.private);
  });

  it('implements keys.get / keys.set the way Baileys calls them (through its cache)', async () => {
    const store = new MemoryStore();
    const auth = await loadAuthState(store, 's1');
    const keys = makeCacheableSignalKeyStore(auth.state.keys, memoryLogger('silent').logger);
    await keys.set({
      'pre-key': { 1: { public: Buffer.from([1]), private: Buffer.from([2]) }, 2: { public: Buffer.from([3]), private: Buffer.from([4]) } },
      session: { '5511:1.0': Buffer.from('session-bytes') },
      'app-state-sync-key': { AAAA: { keyData: Buffer.from([9, 9]), timestamp: 5 } },
    });
    await keys.set({ 'pre-key': { 2: null } });
    const fresh = await loadAuthState(store, 's1'); // read from the store, not the cache
    const preKeys = await fresh.state.keys.get('pre-key', ['1', '2']);
    assert.deepEqual(Object.keys(preKeys), ['1']);
    assert.deepEqual(preKeys['1'].private, Buffer.from([2]));
    assert.deepEqual((await fresh.state.keys.get('session', ['5511:1.0']))['5511:1.0'], Buffer.from('session-bytes'));
    const sync = (await fresh.state.keys.get('app-state-sync-key', ['AAAA'])).AAAA;
    assert.ok(sync instanceof proto.Message.AppStateSyncKeyData);
    assert.deepEqual(Buffer.from(sync.keyData), Buffer.from([9, 9]));
  });

  it('applies writes in call order and coalesces queued creds saves', async () => {
    const writes = [];
    const store = new MemoryStore();
    const realWrite = store.writeAuth.bind(store);
    store.writeAuth = async (id, entries) => {
      writes.push(Object.keys(entries));
      await new Promise((r) => setTimeout(r, Object.keys(entries).includes('slow') ? 20 : 0));
      return realWrite(id, entries);
    };
    const auth = await loadAuthState(store, 's1');
    const slow = auth.state.keys.set({ slow: { 1: { v: 'first' } } });
    const fast = auth.state.keys.set({ slow: { 1: { v: 'second' } } });
    const saves = [auth.saveCreds(), auth.saveCreds(), auth.saveCreds()];
    await Promise.all([slow, fast, ...saves]);
    assert.equal((await store.readAuth('s1', ['slow-1']))['slow-1'].v, 'second');
    assert.equal(writes.filter((w) => w.includes('creds')).length, 1);
  });

  it('ignores writes after dispose (a wiped session stays wiped)', async () => {
    const store = new MemoryStore();
    const auth = await loadAuthState(store, 's1');
    await auth.saveCreds();
    await auth.dispose();
    await store.clearAuth('s1');
    await auth.saveCreds();
    await auth.state.keys.set({ 'pre-key': { 1: { a: 1 } } });
    assert.deepEqual(await store.listSessions(), []);
    assert.deepEqual(await store.readAuth('s1', ['pre-key-1']), {});
  });
});
