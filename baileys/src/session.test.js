import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { EventSink } from './events.js';
import { messageIdFor, messageText, Session } from './session.js';
import { SessionManager } from './session-manager.js';
import { FileStore } from './stores/file-store.js';
import { MemoryStore } from './stores/memory-store.js';
import { FakeWhatsApp } from './testing/fake-socket.js';
import { FAST_SESSION_OPTIONS, memoryLogger, randomKey, sleep, tempDir, waitFor } from './testing/harness.js';

function setup({ store = new MemoryStore(), wa = new FakeWhatsApp(), options = {}, level = 'info' } = {}) {
  const { logger, lines } = memoryLogger(level);
  const events = new EventSink({ logger });
  const published = [];
  events.on('event', (e) => published.push(e));
  const manager = new SessionManager({
    store,
    socketFactory: wa.socketFactory,
    events,
    logger,
    sessionOptions: { ...FAST_SESSION_OPTIONS, ...options },
  });
  const of = (type) => published.filter((e) => e.type === type);
  const states = () => of('state').map((e) => e.data.state);
  return { store, wa, manager, events, published, of, states, lines };
}

async function link(ctx, id = 's1', scan = {}) {
  const { session } = await ctx.manager.start(id);
  await waitFor(() => session.state === 'qr', { what: 'a QR' });
  ctx.wa.scanQr(id, scan);
  await waitFor(() => session.state === 'open', { what: 'open' });
  return session;
}

describe('Session lifecycle', () => {
  const cleanups = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  it('QR → scan → open, reporting QR and state events', async () => {
    const ctx = setup();
    const session = await link(ctx, 's1', { phone: '5511911112222', lid: '2223334445556' });
    assert.equal(session.phone, '5511911112222');
    assert.equal(session.lid, '2223334445556@lid');
    assert.equal(session.qr, null);
    const [qr] = ctx.of('qr');
    assert.equal(qr.session_id, 's1');
    assert.match(qr.data.qr, /^2@/);
    assert.equal(qr.data.attempt, 1);
    assert.equal(qr.data.max_attempts, 5);
    // connecting → qr → (restart after pairing) connecting → open
    assert.deepEqual(ctx.states(), ['connecting', 'qr', 'connecting', 'open']);
    const { creds } = await ctx.store.readAuth('s1', ['creds']);
    assert.equal(creds.me.id, '5511911112222:7@s.whatsapp.net');
    assert.equal(session.reconnectAttempts, 0, 'the restart after pairing is not a failure');
    await ctx.manager.close();
  });

  it('stops after 5 unanswered QR codes (closed, qr_timeout), and never shows a 6th', async () => {
    const ctx = setup({ wa: new FakeWhatsApp({ qrIntervalMs: 5 }) });
    const { session } = await ctx.manager.start('s1');
    await waitFor(() => session.state === 'closed', { what: 'qr_timeout' });
    assert.equal(session.reason, 'qr_timeout');
    assert.equal(ctx.of('qr').length, 5);
    assert.deepEqual(ctx.of('qr').map((e) => e.data.attempt), [1, 2, 3, 4, 5]);
    assert.equal(ctx.of('state').at(-1).data.reason, 'qr_timeout');
    assert.equal(ctx.wa.socket('s1').closed, true);
    const sockets = ctx.wa.sockets.length;
    await sleep(40);
    assert.equal(ctx.wa.sockets.length, sockets, 'no new socket after giving up');
    assert.equal(session.qr, null);
  });

  it('counts QR codes across a reconnect during pairing, and honours maxQrCodes', async () => {
    const ctx = setup({ options: { maxQrCodes: 3 } });
    const { session } = await ctx.manager.start('s1');
    await waitFor(() => session.state === 'qr');
    ctx.wa.rotateQr('s1');
    ctx.wa.dropConnection('s1', 408); // Baileys ends the socket when its QR refs run out
    await waitFor(() => ctx.of('qr').length === 3, { what: 'third QR' });
    ctx.wa.rotateQr('s1');
    await waitFor(() => session.state === 'closed');
    assert.equal(session.reason, 'qr_timeout');
    assert.equal(ctx.of('qr').length, 3);
  });

  it('a new session never reconnects before its first QR (closed, connect_failed)', async () => {
    const wa = new FakeWhatsApp();
    wa.failConnections(5);
    const ctx = setup({ wa });
    const { session } = await ctx.manager.start('s1');
    await waitFor(() => session.state === 'closed');
    assert.equal(session.reason, 'connect_failed');
    await sleep(50);
    assert.equal(wa.sockets.length, 1);
    // A new start is allowed, and works once the network does.
    wa.failConnections(0);
    await session.start();
    await waitFor(() => session.state === 'qr');
  });

  it('reconnects after a transient close, with exponential backoff, and resets on open', async () => {
    const ctx = setup({ options: { reconnectBaseMs: 20, reconnectMaxMs: 80, random: () => 0 } });
    const session = await link(ctx);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => session.backoff(n)), [10, 20, 40, 40, 40]);
    const created = [];
    ctx.wa.on('socket', () => created.push(Date.now()));
    ctx.wa.failConnections(3); // the next three connections close before opening
    const dropped = Date.now();
    ctx.wa.dropConnection('s1');
    assert.equal(session.state, 'connecting');
    assert.equal(session.reason, 'connection_lost:428');
    await waitFor(() => session.state === 'open', { what: 'reopen' });
    assert.equal(created.length, 4);
    const gaps = [created[0] - dropped, ...created.slice(1).map((t, i) => t - created[i])];
    const expected = [10, 20, 40, 40];
    gaps.forEach((gap, i) => assert.ok(gap >= expected[i] - 2, `gap ${i} was ${gap} ms, expected ≥ ${expected[i]}`));
    assert.equal(session.reconnectAttempts, 0);
    assert.equal(ctx.of('qr').length, 1, 'no new QR for a linked phone');
    await ctx.manager.close();
  });

  it('gives up after maxReconnectAttempts (closed, reconnect_failed)', async () => {
    const ctx = setup({ options: { maxReconnectAttempts: 2 } });
    const session = await link(ctx);
    const before = ctx.wa.sockets.length;
    ctx.wa.failConnections(10);
    ctx.wa.dropConnection('s1');
    await waitFor(() => session.state === 'closed', { what: 'reconnect_failed' });
    assert.equal(session.reason, 'reconnect_failed');
    assert.equal(ctx.wa.sockets.length - before, 2);
  });

  it('logged out by the phone: wipes the auth state and reports logged_out, no reconnect', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const store = new FileStore({ dir, key: randomKey() });
    await store.open();
    const ctx = setup({ store });
    const session = await link(ctx);
    await session.auth.flush();
    assert.deepEqual(await store.listSessions(), ['s1']);
    const sockets = ctx.wa.sockets.length;
    ctx.wa.logOut('s1');
    await waitFor(() => ctx.of('state').at(-1)?.data.state === 'logged_out', { what: 'logged_out event' });
    assert.equal(session.state, 'logged_out');
    assert.equal(session.reason, 'logged_out');
    assert.equal(session.phone, null);
    assert.deepEqual(await store.listSessions(), []);
    assert.deepEqual(await store.readAuth('s1', ['creds']), {});
    await sleep(30);
    assert.equal(ctx.wa.sockets.length, sockets);
    // Starting again means a new link: fresh creds, a QR.
    await session.start();
    await waitFor(() => session.state === 'qr');
    assert.equal(ctx.wa.socket('s1').authState.creds.me, undefined);
  });

  it('connection replaced elsewhere stops without a reconnect fight', async () => {
    const ctx = setup();
    const session = await link(ctx);
    ctx.wa.dropConnection('s1', 440);
    assert.equal(session.state, 'closed');
    assert.equal(session.reason, 'connection_replaced');
  });

  it('an error in an event handler is logged and contained', async () => {
    const store = new MemoryStore();
    const ctx = setup({ store });
    let failWrites = false;
    const write = store.writeAuth.bind(store);
    store.writeAuth = async (...args) => {
      if (failWrites) throw new Error('disk on fire');
      return write(...args);
    };
    ctx.events.on('event', (e) => {
      if (e.type === 'ack') throw new Error('listener bug');
    });
    const { session } = await ctx.manager.start('s1');
    await waitFor(() => session.state === 'qr');
    failWrites = true;
    ctx.wa.scanQr('s1');
    await waitFor(() => session.state === 'open');
    await waitFor(() => ctx.lines.some((l) => l.msg === 'event handler failed' && l.event === 'creds.update'));
    ctx.wa.socket('s1').ev.emit('messages.update', 'not an array');
    ctx.wa.socket('s1').ev.emit('messages.upsert', null);
    ctx.wa.socket('s1').ev.emit('connection.update', undefined);
    failWrites = false;
    await session.send({ to: '5511911112222@s.whatsapp.net', text: 'ok', idempotencyKey: 'k' });
    assert.equal(session.state, 'open');
  });
});

describe('Session events', () => {
  it('reports acks (server / delivered / read) with stable event ids', async () => {
    const ctx = setup();
    const session = await link(ctx);
    const { message_id: id } = await session.send({ to: '5511911112222@s.whatsapp.net', text: 'hi', idempotencyKey: 'k1' });
    for (const status of ['server', 'delivered', 'read', 'delivered']) ctx.wa.ack('s1', id, status);
    const acks = ctx.of('ack');
    assert.deepEqual(acks.map((e) => e.data.status), ['server', 'delivered', 'read', 'delivered']);
    assert.equal(acks[1].event_id, `ack:s1:${id}:delivered`);
    assert.equal(acks[3].event_id, acks[1].event_id, 'a repeated ack repeats its id');
    assert.equal(acks[0].data.message_id, id);
    assert.equal(acks[0].data.to, '5511911112222@s.whatsapp.net');
    // Acks of messages others sent (fromMe false) are not ours to report.
    ctx.wa.socket('s1').ev.emit('messages.update', [{ key: { id: 'X', fromMe: false, remoteJid: 'a@s.whatsapp.net' }, update: { status: 4 } }]);
    assert.equal(ctx.of('ack').length, 4);
  });

  it('reports incoming texts (so "SAIR" can opt a client out), with phone and LID', async () => {
    const ctx = setup();
    await link(ctx);
    const id1 = ctx.wa.receive('s1', { from: '5511988887777', text: 'SAIR' });
    ctx.wa.receive('s1', { from: '5511977776666', fromLid: '99887766554433', text: 'parar', pushName: 'Ana' });
    const sock = ctx.wa.socket('s1');
    sock.ev.emit('messages.upsert', {
      type: 'notify',
      messages: [
        { key: { remoteJid: '120363@g.us', id: 'G1', fromMe: false }, message: { conversation: 'group chat' } },
        { key: { remoteJid: '5511988887777@s.whatsapp.net', id: 'M2', fromMe: true }, message: { conversation: 'mine' } },
        { key: { remoteJid: 'status@broadcast', id: 'S1', fromMe: false }, message: { conversation: 'status' } },
      ],
    });
    sock.ev.emit('messages.upsert', { type: 'append', messages: [{ key: { remoteJid: '5511988887777@s.whatsapp.net', id: 'H1' }, message: { conversation: 'history' } }] });
    const messages = ctx.of('message');
    assert.equal(messages.length, 2);
    assert.equal(messages[0].event_id, `message:s1:5511988887777@s.whatsapp.net:${id1}`);
    assert.deepEqual(
      { ...messages[0].data, timestamp: null },
      { message_id: id1, from: '5511988887777@s.whatsapp.net', from_phone: '5511988887777', from_lid: null, push_name: 'Cliente', text: 'SAIR', timestamp: null },
    );
    assert.equal(messages[1].data.from, '99887766554433@lid');
    assert.equal(messages[1].data.from_phone, '5511977776666');
    assert.equal(messages[1].data.from_lid, '99887766554433@lid');
    assert.equal(messages[1].data.text, 'parar');
  });

  it('a flood of Bad MAC errors stays a few log lines and no events', async () => {
    const ctx = setup({ options: { decryptLogMax: 5, decryptLogWindowMs: 60_000, baileysLogLevel: 'trace' } });
    const session = await link(ctx);
    const before = ctx.published.length;
    ctx.wa.decryptErrors('s1', 5000);
    assert.equal(ctx.lines.filter((l) => l.msg === 'failed to decrypt message').length, 5);
    assert.equal(session.decryptLimiter.totalSuppressed, 4995);
    assert.equal(ctx.published.length, before);
    session.decryptLimiter.stop();
  });
});

describe('Session helpers', () => {
  it('derives one WhatsApp message id per (session, idempotency key)', () => {
    assert.equal(messageIdFor('s1', 'k'), messageIdFor('s1', 'k'));
    assert.notEqual(messageIdFor('s1', 'k'), messageIdFor('s2', 'k'));
    assert.match(messageIdFor('s1', 'k'), /^3EB0[0-9A-F]{18}$/);
  });

  it('finds the text inside wrapped messages', () => {
    assert.equal(messageText({ conversation: 'a' }), 'a');
    assert.equal(messageText({ extendedTextMessage: { text: 'b' } }), 'b');
    assert.equal(messageText({ ephemeralMessage: { message: { extendedTextMessage: { text: 'c' } } } }), 'c');
    assert.equal(messageText({ reactionMessage: { text: '👍' } }), null);
    assert.equal(messageText(undefined), null);
  });

  it('resumes a linked session from the store after a restart, without a QR', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const key = randomKey();
      const first = setup({ store: new FileStore({ dir, key }) });
      await first.store.open();
      await link(first, 'seller-7', { phone: '5521987654321' });
      await first.manager.close();
      assert.equal(first.wa.socket('seller-7').closed, true);

      const store = new FileStore({ dir, key });
      await store.open();
      const second = setup({ store });
      assert.deepEqual(await second.manager.resumeAll(), ['seller-7']);
      const session = second.manager.get('seller-7');
      await waitFor(() => session.state === 'open');
      assert.equal(session.phone, '5521987654321');
      assert.equal(second.of('qr').length, 0);
      await second.manager.close();
    } finally {
      await cleanup();
    }
  });

  it('a Session can be built on its own with a fake socket factory', async () => {
    const wa = new FakeWhatsApp();
    const session = new Session({ id: 'solo', store: new MemoryStore(), socketFactory: wa.socketFactory, logger: memoryLogger('silent').logger });
    await session.start();
    await waitFor(() => session.state === 'qr');
    await session.stop();
    assert.equal(session.state, 'closed');
  });
});
