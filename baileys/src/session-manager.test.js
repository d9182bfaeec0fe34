import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionNotFoundError } from './errors.js';
import { SessionManager } from './session-manager.js';
import { MemoryStore } from './stores/memory-store.js';
import { FakeWhatsApp } from './testing/fake-socket.js';
import { FAST_SESSION_OPTIONS, memoryLogger, waitFor } from './testing/harness.js';

function manager(store = new MemoryStore(), wa = new FakeWhatsApp()) {
  const { logger, lines } = memoryLogger('info');
  return { m: new SessionManager({ store, socketFactory: wa.socketFactory, logger, sessionOptions: FAST_SESSION_OPTIONS }), wa, lines };
}

describe('SessionManager', () => {
  it('keeps one Session per id; get() of an unknown id throws SessionNotFoundError (404)', async () => {
    const { m, wa } = manager();
    const a = await m.start('a');
    const again = await m.start('a');
    assert.equal(a.created, true);
    assert.equal(again.created, false);
    assert.equal(again.session, a.session);
    await waitFor(() => a.session.state === 'qr');
    assert.equal(wa.sockets.length, 1);
    assert.throws(() => m.get('b'), (err) => err instanceof SessionNotFoundError && err.status === 404);
    await assert.rejects(m.start('../x'), /invalid session id/);
    await m.close();
  });

  it('counts sessions by state', async () => {
    const { m, wa } = manager();
    await m.start('a');
    await m.start('b');
    await waitFor(() => m.stats().by_state.qr === 2);
    wa.scanQr('a');
    await waitFor(() => m.get('a').state === 'open');
    assert.deepEqual(m.stats(), { total: 2, by_state: { connecting: 0, qr: 1, open: 1, closed: 0, logged_out: 0 } });
    await m.close();
    assert.equal(m.stats().by_state.closed, 2);
  });

  it('remove() logs out, wipes and forgets', async () => {
    const store = new MemoryStore();
    const { m, wa } = manager(store);
    await m.start('a');
    await waitFor(() => m.get('a').state === 'qr');
    wa.scanQr('a');
    await waitFor(() => m.get('a').state === 'open');
    await m.get('a').auth.flush();
    await m.remove('a');
    assert.equal(m.sessions.has('a'), false);
    assert.deepEqual(await store.listSessions(), []);
  });

  it('resumeAll() starts linked sessions only, and one broken session does not stop the others', async () => {
    const store = new MemoryStore();
    await store.writeAuth('linked', { creds: { me: { id: '5511900000001:1@s.whatsapp.net' } } });
    await store.writeAuth('unlinked', { creds: { me: null } });
    await store.writeAuth('broken', { creds: { me: { id: '5511900000002:1@s.whatsapp.net' } } });
    const read = store.readAuth.bind(store);
    store.readAuth = async (id, names) => {
      if (id === 'broken') throw new Error('unreadable');
      return read(id, names);
    };
    const { m, lines } = manager(store);
    assert.deepEqual(await m.resumeAll(), ['linked']);
    assert.ok(lines.some((l) => l.msg === 'could not resume session' && l.session_id === 'broken'));
    await waitFor(() => m.get('linked').state === 'open');
    await m.close();
  });
});
