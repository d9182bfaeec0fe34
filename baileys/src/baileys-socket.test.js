/**
 * The real socket factory. Nothing here reaches WhatsApp: the config is checked with a
 * stub `makeSocket`, and the real Baileys socket is pointed at a loopback endpoint.
 */

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildSocketConfig, createBaileysSocketFactory } from './baileys-socket.js';
import { EventSink } from './events.js';
import { SessionManager } from './session-manager.js';
import { loadAuthState } from './stores/auth-state.js';
import { MemoryStore } from './stores/memory-store.js';
import { memoryLogger, sleep, waitFor } from './testing/harness.js';

describe('buildSocketConfig / createBaileysSocketFactory', () => {
  it('hands Baileys our auth state (keys behind its cache), logger and getMessage', async () => {
    const store = new MemoryStore();
    const auth = await loadAuthState(store, 's1');
    const { logger } = memoryLogger('silent');
    let captured;
    const fakeSocket = { ev: { on() {}, off() {} } };
    const factory = createBaileysSocketFactory({
      makeSocket: (config) => {
        captured = config;
        return fakeSocket;
      },
      overrides: { browser: ['clientmgr', 'Chrome', '1.0'] },
    });
    const getMessage = async () => ({ conversation: 'cached' });
    const sock = await factory({ sessionId: 's1', auth: auth.state, logger, getMessage });
    assert.equal(sock, fakeSocket);
    assert.equal(captured.auth.creds, auth.state.creds, 'the same creds object Baileys mutates');
    assert.equal(captured.logger, logger);
    assert.equal(captured.getMessage, getMessage);
    assert.equal(captured.markOnlineOnConnect, false);
    assert.equal(captured.syncFullHistory, false);
    assert.deepEqual(captured.browser, ['clientmgr', 'Chrome', '1.0']);
    assert.equal('waWebSocketUrl' in captured, false, "Baileys' own default URL in production");
    await captured.auth.keys.set({ 'pre-key': { 9: { public: Buffer.from([9]), private: Buffer.from([8]) } } });
    await auth.flush();
    assert.deepEqual((await store.readAuth('s1', ['pre-key-9']))['pre-key-9'].public, Buffer.from([9]));
    const config = buildSocketConfig({ auth: auth.state, logger });
    assert.equal(await config.getMessage({ id: 'x' }), undefined);
  });
});

describe('the real Baileys socket (pointed at a loopback endpoint)', () => {
  let server;
  let url;
  const upgrades = [];
  before(async () => {
    server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket) => {
      upgrades.push({ path: req.url, origin: req.headers.origin, at: Date.now() });
      socket.destroy(); // no WhatsApp here
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    url = `ws://127.0.0.1:${server.address().port}/ws/chat`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  function manager(store, sessionOptions = {}) {
    const { logger } = memoryLogger('silent');
    const events = new EventSink({ logger });
    return new SessionManager({
      store,
      events,
      logger,
      socketFactory: createBaileysSocketFactory({ overrides: { waWebSocketUrl: url, connectTimeoutMs: 3000 } }),
      sessionOptions: { reconnectBaseMs: 20, reconnectMaxMs: 40, ...sessionOptions },
    });
  }

  it('a new session connects once and, with no QR, closes without retrying', async () => {
    upgrades.length = 0;
    const m = manager(new MemoryStore());
    const { session } = await m.start('real-new');
    await waitFor(() => session.state === 'closed', { timeoutMs: 8000, what: 'close' });
    assert.equal(session.reason, 'connect_failed');
    await sleep(100);
    assert.equal(upgrades.length, 1);
    assert.equal(upgrades[0].path, '/ws/chat');
    assert.equal(upgrades[0].origin, 'https://web.whatsapp.com');
    await m.close();
  });

  it('a linked session keeps reconnecting with backoff through the real close path', async () => {
    upgrades.length = 0;
    const store = new MemoryStore();
    const auth = await loadAuthState(store, 'real-linked');
    auth.state.creds.me = { id: '5511900000001:3@s.whatsapp.net', name: 'x' };
    await auth.saveCreds();
    const m = manager(store);
    assert.deepEqual(await m.resumeAll(), ['real-linked']);
    await waitFor(() => upgrades.length >= 3, { timeoutMs: 8000, what: 'three connection attempts' });
    const session = m.get('real-linked');
    assert.equal(session.state, 'connecting');
    assert.match(session.reason, /^connection_lost:/);
    assert.ok(session.reconnectAttempts >= 2);
    await m.close();
    const seen = upgrades.length;
    await sleep(120);
    assert.equal(upgrades.length, seen, 'no attempt after close');
  });
});
