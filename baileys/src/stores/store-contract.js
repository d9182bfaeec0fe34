/**
 * The promises every state store keeps, as node:test cases. Each store's test file
 * calls `storeContract(name, makeStore)`; `makeStore({now})` returns an opened store
 * and a `cleanup()`.
 */

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { initAuthCreds } from 'baileys';

export function storeContract(name, makeStore) {
  describe(`${name}: store contract`, () => {
    const cleanups = [];
    after(async () => {
      for (const c of cleanups) await c();
    });
    const fresh = async (opts) => {
      const made = await makeStore(opts);
      cleanups.push(made.cleanup);
      return made.store;
    };

    it('round-trips creds and keys with their Buffers (BufferJSON)', async () => {
      const store = await fresh();
      const creds = initAuthCreds();
      await store.writeAuth('s1', { creds, 'pre-key-1': { public: Buffer.from([1, 2, 3]), private: Buffer.alloc(32, 7) } });
      const got = await store.readAuth('s1', ['creds', 'pre-key-1', 'pre-key-2']);
      assert.ok(Buffer.isBuffer(got.creds.noiseKey.private));
      assert.deepEqual(got.creds.noiseKey.private, Buffer.from(creds.noiseKey.private));
      assert.equal(got.creds.registrationId, creds.registrationId);
      assert.deepEqual(got['pre-key-1'].public, Buffer.from([1, 2, 3]));
      assert.equal('pre-key-2' in got, false);
    });

    it('deletes keys written as null and keeps sessions apart', async () => {
      const store = await fresh();
      await store.writeAuth('a', { 'session-1.0': Buffer.from('a'), 'session-2.0': Buffer.from('b') });
      await store.writeAuth('b', { 'session-1.0': Buffer.from('other') });
      await store.writeAuth('a', { 'session-1.0': null });
      assert.deepEqual(Object.keys(await store.readAuth('a', ['session-1.0', 'session-2.0'])), ['session-2.0']);
      assert.deepEqual((await store.readAuth('b', ['session-1.0']))['session-1.0'], Buffer.from('other'));
    });

    it('handles key names with colons, slashes and other odd characters', async () => {
      const store = await fresh();
      const names = ['session-5511988887777:12.0', 'sender-key-120363@g.us::5511:3', 'lid-mapping-123_reverse', 'x/../y'];
      await store.writeAuth('s1', Object.fromEntries(names.map((n, i) => [n, { i }])));
      const got = await store.readAuth('s1', names);
      assert.deepEqual(names.map((n) => got[n].i), [0, 1, 2, 3]);
    });

    it('lists only sessions with creds, and clearAuth wipes one session', async () => {
      const store = await fresh();
      await store.writeAuth('with-creds', { creds: { me: { id: '1@s.whatsapp.net' } } });
      await store.writeAuth('keys-only', { 'pre-key-1': { x: 1 } });
      await store.writeAuth('other', { creds: { me: null } });
      assert.deepEqual((await store.listSessions()).sort(), ['other', 'with-creds']);
      await store.clearAuth('with-creds');
      assert.deepEqual(await store.listSessions(), ['other']);
      assert.deepEqual(await store.readAuth('with-creds', ['creds']), {});
      await store.clearAuth('never-existed');
    });

    it('keeps idempotency records (outside the auth state) until the TTL passes', async () => {
      let now = Date.now();
      const store = await fresh({ now: () => now, idempotencyTtlMs: 24 * 3600_000 });
      assert.equal(await store.getIdempotency('s1', 'k1'), null);
      await store.putIdempotency('s1', 'k1', { message_id: 'M1', to: 'x@s.whatsapp.net' });
      assert.deepEqual(await store.getIdempotency('s1', 'k1'), { message_id: 'M1', to: 'x@s.whatsapp.net' });
      assert.equal(await store.getIdempotency('s2', 'k1'), null, 'keys are per session');
      await store.clearAuth('s1');
      assert.equal((await store.getIdempotency('s1', 'k1')).message_id, 'M1', 'a logout keeps them');
      now += 23 * 3600_000;
      assert.equal((await store.getIdempotency('s1', 'k1')).message_id, 'M1', 'still there within 24 h');
      now += 2 * 3600_000;
      assert.equal(await store.getIdempotency('s1', 'k1'), null, 'gone after the TTL');
    });

    it('accepts idempotency keys of any shape', async () => {
      const store = await fresh();
      const key = 'acct:42/client:7/before_due/2026-12-10/-3 ✓ "quoted"';
      await store.putIdempotency('s1', key, { message_id: 'M2' });
      assert.equal((await store.getIdempotency('s1', key)).message_id, 'M2');
    });

    it('rejects session ids that could escape their namespace', async () => {
      const store = await fresh();
      await assert.rejects(store.writeAuth('../evil', { creds: {} }), /invalid session id/);
      await assert.rejects(store.readAuth('a/b', ['creds']), /invalid session id/);
    });
  });
}
