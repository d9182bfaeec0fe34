import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { FileStore } from './stores/file-store.js';
import { MemoryStore } from './stores/memory-store.js';
import { FakeWhatsApp } from './testing/fake-socket.js';
import { memoryLogger, randomKey, startTestApp, tempDir, TEST_TOKEN, waitFor } from './testing/harness.js';

const apps = [];
async function start(options) {
  const t = await startTestApp(options);
  apps.push(t);
  return t;
}
after(async () => {
  for (const t of apps) await t.close();
});

describe('HTTP: auth, request ids, health', () => {
  let t;
  let lines;
  before(async () => {
    const mem = memoryLogger('info');
    lines = mem.lines;
    t = await start({ logger: mem.logger });
  });

  it('GET /health needs no token and counts sessions by state', async () => {
    await t.request('POST', '/sessions/h1');
    await waitFor(() => t.app.manager.get('h1').state === 'qr');
    const res = await t.request('GET', '/health', undefined, { auth: false });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.sessions.total, 1);
    assert.equal(res.body.sessions.by_state.qr, 1);
    assert.equal(res.body.sessions.by_state.open, 0);
  });

  it('401 without a token, with a wrong one, or with another scheme', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${TEST_TOKEN}` }, { authorization: `Bearer ${TEST_TOKEN}x` }]) {
      const res = await t.request('GET', '/sessions/h1', undefined, { auth: false, headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.body.error, 'unauthorized');
      assert.match(res.body.reason, /bearer token/);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    }
    // Even unknown routes and oversized bodies answer 401 first.
    assert.equal((await t.request('POST', '/nope', undefined, { auth: false })).status, 401);
  });

  it('echoes X-Request-Id, makes one up when absent, and logs it on the request lines', async () => {
    const given = await t.request('GET', '/sessions/h1', undefined, { headers: { 'x-request-id': 'corr-42' } });
    assert.equal(given.headers.get('x-request-id'), 'corr-42');
    const made = await t.request('GET', '/sessions/h1');
    assert.match(made.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
    const junk = await t.request('GET', '/sessions/h1', undefined, { headers: { 'x-request-id': 'x'.repeat(300) } });
    assert.match(junk.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
    const line = lines.find((l) => l.msg === 'request' && l.req_id === 'corr-42');
    assert.ok(line, 'access log line with req_id');
    assert.equal(line.status, 200);
    // Session log lines written during a request carry it too.
    await t.request('POST', '/sessions/h2', undefined, { headers: { 'x-request-id': 'corr-start' } });
    assert.ok(lines.some((l) => l.req_id === 'corr-start' && l.session_id === 'h2'));
  });

  it('answers unknown routes with 404 and wrong methods with 405, as JSON', async () => {
    const res = await t.request('GET', '/nope');
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'not_found');
    const put = await t.request('PUT', '/sessions/h1', {});
    assert.equal(put.status, 405);
    assert.equal(put.body.error, 'method_not_allowed');
    assert.equal((await t.request('GET', '/sessions/h1/messages')).status, 405);
  });
});

describe('HTTP: sessions', () => {
  it('POST starts (201) or returns the running session (200); GET shows state, QR and phone', async () => {
    const t = await start();
    const created = await t.request('POST', '/sessions/seller-1');
    assert.equal(created.status, 201);
    assert.equal(created.body.id, 'seller-1');
    assert.ok(['connecting', 'qr'].includes(created.body.state));
    await waitFor(async () => (await t.request('GET', '/sessions/seller-1')).body.state === 'qr');
    const qr = await t.request('GET', '/sessions/seller-1');
    assert.match(qr.body.qr, /^2@/);
    assert.equal(qr.body.phone, null);
    assert.equal((await t.request('POST', '/sessions/seller-1')).status, 200);
    t.wa.scanQr('seller-1', { phone: '5511912345678' });
    await waitFor(async () => (await t.request('GET', '/sessions/seller-1')).body.state === 'open');
    const open = await t.request('GET', '/sessions/seller-1');
    assert.deepEqual([open.body.state, open.body.qr, open.body.phone], ['open', null, '5511912345678']);
    assert.equal(t.wa.sockets.filter((s) => !s.closed).length, 1, 'a second POST does not open a second socket');
  });

  it('404 for a session never started', async () => {
    const t = await start();
    for (const [method, path, body] of [
      ['GET', '/sessions/ghost'],
      ['DELETE', '/sessions/ghost'],
      ['POST', '/sessions/ghost/messages', { to: '5511988887777', text: 'x', idempotency_key: 'k' }],
      ['POST', '/sessions/ghost/lookup', { phones: ['5511988887777'] }],
      ['POST', '/sessions/ghost/presence', { to: '5511988887777', state: 'composing' }],
    ]) {
      const res = await t.request(method, path, body);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.error, 'unknown_session');
    }
  });

  it('400 for a session id that is not 1-64 of [A-Za-z0-9_-]', async () => {
    const t = await start();
    for (const id of ['a.b', 'x'.repeat(65), 'a%20b', 'a%2Fb', '%E0%A4%A']) {
      const res = await t.request('POST', `/sessions/${id}`);
      assert.equal(res.status, 400, id);
      assert.equal(res.body.error, 'invalid_session_id');
    }
  });

  it('DELETE logs out, wipes the auth state and forgets the session', async () => {
    const { dir, cleanup } = await tempDir();
    const store = new FileStore({ dir, key: randomKey() });
    await store.open();
    const t = await start({ store });
    const session = await t.linkSession('gone');
    await session.auth.flush();
    assert.deepEqual(await store.listSessions(), ['gone']);
    const sock = t.wa.socket('gone');
    const res = await t.request('DELETE', '/sessions/gone');
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'logged_out');
    assert.equal(sock.closed, true);
    assert.deepEqual(await store.listSessions(), []);
    assert.equal((await t.request('GET', '/sessions/gone')).status, 404);
    await cleanup();
  });
});

describe('HTTP: messages', () => {
  let t;
  before(async () => {
    t = await start({ wa: new FakeWhatsApp({ numbers: ['5511988887777', '551188887777', '5521987654321'] }) });
    await t.linkSession('s1');
  });
  const send = (body, id = 's1') => t.request('POST', `/sessions/${id}/messages`, body);

  it('sends a text and returns its message id', async () => {
    const res = await send({ to: '5511988887777@s.whatsapp.net', text: 'Olá!', idempotency_key: 'send-1' });
    assert.equal(res.status, 200);
    assert.match(res.body.message_id, /^3EB0/);
    assert.equal(res.body.duplicate, false);
    const sent = t.wa.sent.filter((m) => m.id === res.body.message_id);
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].content, { text: 'Olá!', linkPreview: null });
    assert.equal(sent[0].jid, '5511988887777@s.whatsapp.net');
  });

  it('the same idempotency key never sends twice: same id, one send', async () => {
    const body = { to: '5511988887777@s.whatsapp.net', text: 'Lembrete', idempotency_key: 'dup-1' };
    const first = await send(body);
    const second = await send(body);
    const third = await send({ ...body, text: 'changed text' });
    assert.equal(second.status, 200);
    assert.equal(second.body.message_id, first.body.message_id);
    assert.equal(second.body.duplicate, true);
    assert.equal(third.body.message_id, first.body.message_id);
    assert.equal(t.wa.sent.filter((m) => m.id === first.body.message_id).length, 1);
    const other = await send({ ...body, idempotency_key: 'dup-2' });
    assert.notEqual(other.body.message_id, first.body.message_id);
  });

  it('concurrent requests with one key send once', async () => {
    const body = { to: '5521987654321@s.whatsapp.net', text: 'at once', idempotency_key: 'race-1' };
    const before = t.wa.sent.length;
    const results = await Promise.all(Array.from({ length: 12 }, () => send(body)));
    assert.ok(results.every((r) => r.status === 200));
    assert.equal(new Set(results.map((r) => r.body.message_id)).size, 1);
    assert.equal(results.filter((r) => !r.body.duplicate).length, 1);
    assert.equal(t.wa.sent.length - before, 1);
  });

  it('a phone number is resolved first: the 9th digit is added or dropped to match WhatsApp', async () => {
    const res = await send({ to: '+55 21 8765-4321', text: 'x', idempotency_key: 'br-1' });
    assert.equal(res.status, 200);
    assert.equal(res.body.to, '5521987654321@s.whatsapp.net');
    const notThere = await send({ to: '+55 31 99999-0000', text: 'x', idempotency_key: 'br-2' });
    assert.equal(notThere.status, 422);
    assert.equal(notThere.body.error, 'not_on_whatsapp');
  });

  it('a failed send answers 502 and may be retried with the same key, sending once', async () => {
    const body = { to: '5511988887777@s.whatsapp.net', text: 'retry me', idempotency_key: 'fail-1' };
    t.wa.failSends(1, 'stream errored');
    const failed = await send(body);
    assert.equal(failed.status, 502);
    assert.equal(failed.body.error, 'send_failed');
    assert.match(failed.body.reason, /stream errored/);
    const retried = await send(body);
    assert.equal(retried.status, 200);
    assert.equal(t.wa.sent.filter((m) => m.content.text === 'retry me').length, 1);
  });

  it('400 for bad payloads, naming the field', async () => {
    const cases = [
      [{ raw: '{not json' }, 'invalid_json', /not valid JSON/],
      [{ raw: '' }, 'invalid_json', /needs a JSON body/],
      [{ raw: '[1,2]' }, 'invalid_payload', /JSON object/],
      [{ body: { text: 'x', idempotency_key: 'k' } }, 'invalid_payload', /"to" is required/],
      [{ body: { to: '5511988887777', idempotency_key: 'k' } }, 'invalid_payload', /"text" is required/],
      [{ body: { to: '5511988887777', text: 'x' } }, 'invalid_payload', /"idempotency_key" is required/],
      [{ body: { to: '5511988887777', text: '', idempotency_key: 'k' } }, 'invalid_payload', /"text" must be/],
      [{ body: { to: 42, text: 'x', idempotency_key: 'k' } }, 'invalid_payload', /"to" must be/],
      [{ body: { to: '5511988887777', text: 'x'.repeat(4097), idempotency_key: 'k' } }, 'invalid_payload', /longer than 4096/],
      [{ body: { to: 'not a phone', text: 'x', idempotency_key: 'k' } }, 'invalid_payload', /phone number with country code/],
      [{ body: { to: '120363@g.us', text: 'x', idempotency_key: 'k' } }, 'invalid_payload', /JID/],
    ];
    for (const [input, code, reason] of cases) {
      const res = await t.request('POST', '/sessions/s1/messages', input.body, { raw: input.raw });
      assert.equal(res.status, 400, JSON.stringify(input));
      assert.equal(res.body.error, code, JSON.stringify(input));
      assert.match(res.body.reason, reason);
    }
  });

  it('413 for a body over 64 KiB (declared or streamed)', async () => {
    const big = JSON.stringify({ to: '5511988887777', text: 'x'.repeat(70 * 1024), idempotency_key: 'big' });
    const res = await t.request('POST', '/sessions/s1/messages', undefined, { raw: big });
    assert.equal(res.status, 413);
    assert.equal(res.body.error, 'payload_too_large');
    // Chunked, without a Content-Length: cut off while streaming.
    const streamed = await new Promise((resolve, reject) => {
      const req = http.request(`${t.url}/sessions/s1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve({ status: r.statusCode, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(8 * 1024));
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.equal(streamed.body.error, 'payload_too_large');
    assert.equal(t.wa.sent.filter((m) => m.content.text?.length > 60_000).length, 0);
  });

  it('409 when the session is not open (still showing a QR)', async () => {
    await t.request('POST', '/sessions/pending');
    await waitFor(() => t.app.manager.get('pending').state === 'qr');
    const res = await send({ to: '5511988887777', text: 'x', idempotency_key: 'p-1' }, 'pending');
    assert.equal(res.status, 409);
    assert.equal(res.body.error, 'session_not_open');
    assert.match(res.body.reason, /is qr/);
    const lookup = await t.request('POST', '/sessions/pending/lookup', { phones: ['5511988887777'] });
    assert.equal(lookup.status, 409);
  });
});

describe('HTTP: lookup', () => {
  let t;
  before(async () => {
    const wa = new FakeWhatsApp();
    wa.addNumber('551188887777'); // an old account, registered without the 9th digit
    wa.addNumber('5521987654321', { lid: '77001122334455' }); // a modern one, with a LID
    wa.addNumber('14155550100');
    t = await start({ wa });
    await t.linkSession('s1');
  });
  const lookup = (phones) => t.request('POST', '/sessions/s1/lookup', { phones });

  it('finds Brazilian mobiles with or without the 9th digit, and returns the real JID', async () => {
    const res = await lookup(['+55 11 98888-7777', '551188887777', '552187654321', '5521987654321']);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, [
      { phone: '+55 11 98888-7777', exists: true, jid: '551188887777@s.whatsapp.net', lid: null },
      { phone: '551188887777', exists: true, jid: '551188887777@s.whatsapp.net', lid: null },
      { phone: '552187654321', exists: true, jid: '5521987654321@s.whatsapp.net', lid: '77001122334455@lid' },
      { phone: '5521987654321', exists: true, jid: '5521987654321@s.whatsapp.net', lid: '77001122334455@lid' },
    ]);
    // One query holding every variant, each asked once.
    const asked = t.wa.lookups.at(-1);
    assert.deepEqual([...asked].sort(), ['551188887777', '5511988887777', '552187654321', '5521987654321'].map((d) => `${d}@s.whatsapp.net`).sort());
  });

  it('reports numbers that are not on WhatsApp, and other countries as given', async () => {
    const res = await lookup(['+1 415 555 0100', '5531999990000', '551133334444']);
    assert.deepEqual(res.body, [
      { phone: '+1 415 555 0100', exists: true, jid: '14155550100@s.whatsapp.net', lid: null },
      { phone: '5531999990000', exists: false, jid: null, lid: null },
      { phone: '551133334444', exists: false, jid: null, lid: null },
    ]);
  });

  it('400 for a bad phones list', async () => {
    for (const body of [{}, { phones: [] }, { phones: 'x' }, { phones: [5511] }, { phones: ['abc'] }, { phones: Array(51).fill('5511988887777') }]) {
      const res = await t.request('POST', '/sessions/s1/lookup', body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 60));
      assert.equal(res.body.error, 'invalid_payload');
    }
  });
});

describe('HTTP: presence', () => {
  let t;
  before(async () => {
    // 551187776666: an old account, registered without the 9th digit.
    t = await start({ wa: new FakeWhatsApp({ numbers: ['5511988887777', '551187776666'] }) });
    await t.linkSession('s1');
  });
  const presence = (body, id = 's1') => t.request('POST', `/sessions/${id}/presence`, body);
  const shown = () => t.wa.presences.map((p) => [p.sessionId, p.jid, p.type]);

  it('shows "typing…" and its end to the JID the phone number resolves to, sending no message', async () => {
    const before = { presences: t.wa.presences.length, sent: t.wa.sent.length };
    const typing = await presence({ to: '+55 11 98888-7777', state: 'composing' });
    assert.equal(typing.status, 200);
    assert.deepEqual(typing.body, { to: '5511988887777@s.whatsapp.net', state: 'composing' });
    // The 9th digit is dropped to match WhatsApp, as a send does.
    const paused = await presence({ to: '+55 11 98777-6666', state: 'paused' });
    assert.deepEqual(paused.body, { to: '551187776666@s.whatsapp.net', state: 'paused' });
    const lid = await presence({ to: '123456789012345@lid', state: 'composing' });
    assert.equal(lid.body.to, '123456789012345@lid');
    assert.deepEqual(shown().slice(before.presences), [
      ['s1', '5511988887777@s.whatsapp.net', 'composing'],
      ['s1', '551187776666@s.whatsapp.net', 'paused'],
      ['s1', '123456789012345@lid', 'composing'],
    ]);
    assert.equal(t.wa.sent.length, before.sent);
  });

  it('422 for a phone number nobody uses on WhatsApp, showing nothing', async () => {
    const before = t.wa.presences.length;
    const res = await presence({ to: '+55 31 99999-0000', state: 'composing' });
    assert.equal(res.status, 422);
    assert.equal(res.body.error, 'not_on_whatsapp');
    assert.match(res.body.reason, /99999-0000 is not on WhatsApp/);
    assert.equal(t.wa.presences.length, before);
  });

  it('409 when the session is not open (still showing a QR)', async () => {
    await t.request('POST', '/sessions/waiting');
    await waitFor(() => t.app.manager.get('waiting').state === 'qr');
    const res = await presence({ to: '5511988887777', state: 'composing' }, 'waiting');
    assert.equal(res.status, 409);
    assert.equal(res.body.error, 'session_not_open');
    assert.match(res.body.reason, /is qr/);
    assert.equal(shown().filter(([id]) => id === 'waiting').length, 0);
  });

  it('400 for a missing or bad "to" or "state", naming the field', async () => {
    const cases = [
      [{ state: 'composing' }, /"to" is required/],
      [{ to: '', state: 'composing' }, /"to" must be/],
      [{ to: 'not a phone', state: 'composing' }, /phone number with country code/],
      [{ to: '120363@g.us', state: 'composing' }, /JID/],
      [{ to: '5511988887777' }, /"state" must be "composing" or "paused"/],
      [{ to: '5511988887777', state: 'recording' }, /"state" must be/],
      [{ to: '5511988887777', state: 'available' }, /"state" must be/],
    ];
    const before = t.wa.presences.length;
    for (const [body, reason] of cases) {
      const res = await presence(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error, 'invalid_payload', JSON.stringify(body));
      assert.match(res.body.reason, reason);
    }
    assert.equal(t.wa.presences.length, before);
  });

  it('401 without the right token', async () => {
    const res = await t.request('POST', '/sessions/s1/presence', { to: '5511988887777', state: 'composing' }, {
      auth: false,
      headers: { authorization: 'Bearer wrong' },
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'unauthorized');
  });

  it('502 when WhatsApp refuses the update; 405 for another method', async () => {
    const sock = t.wa.socket('s1');
    const original = sock.sendPresenceUpdate;
    sock.sendPresenceUpdate = async () => {
      throw new Error('stream errored');
    };
    try {
      const res = await presence({ to: '5511988887777', state: 'composing' });
      assert.equal(res.status, 502);
      assert.equal(res.body.error, 'send_failed');
      assert.match(res.body.reason, /presence update: stream errored/);
    } finally {
      sock.sendPresenceUpdate = original;
    }
    assert.equal((await t.request('GET', '/sessions/s1/presence')).status, 405);
  });
});

describe('HTTP: restart', () => {
  it('resumes linked sessions from the store, and an idempotency key still never sends twice', async () => {
    const { dir, cleanup } = await tempDir();
    const key = randomKey();
    const body = { to: '5511988887777@s.whatsapp.net', text: 'once', idempotency_key: 'restart-1' };

    const store1 = new FileStore({ dir, key });
    await store1.open();
    const first = await startTestApp({ store: store1 });
    await first.linkSession('seller-9', { phone: '5511900009999' });
    const sent = await first.request('POST', '/sessions/seller-9/messages', body);
    assert.equal(sent.status, 200);
    await first.request('POST', '/sessions/not-linked'); // QR only: not resumed
    await first.close();

    const store2 = new FileStore({ dir, key });
    await store2.open();
    const wa2 = new FakeWhatsApp();
    const second = await startTestApp({ store: store2, wa: wa2 });
    apps.push(second);
    await waitFor(async () => (await second.request('GET', '/sessions/seller-9')).body?.state === 'open', { what: 'resumed session' });
    assert.equal(second.published.filter((e) => e.type === 'qr').length, 0, 'no QR after a restart');
    assert.equal((await second.request('GET', '/sessions/not-linked')).status, 404);

    const again = await second.request('POST', '/sessions/seller-9/messages', body);
    assert.equal(again.status, 200);
    assert.equal(again.body.message_id, sent.body.message_id);
    assert.equal(again.body.duplicate, true);
    assert.equal(wa2.sent.length, 0, 'nothing sent again');
    await cleanup();
  });

  it('an idempotent replay is answered even while the session is down', async () => {
    const store = new MemoryStore();
    const t = await start({ store });
    await t.linkSession('s1');
    const body = { to: '5511988887777@s.whatsapp.net', text: 'x', idempotency_key: 'down-1' };
    const first = await t.request('POST', '/sessions/s1/messages', body);
    t.wa.logOut('s1');
    await waitFor(() => t.app.manager.get('s1').state === 'logged_out');
    const replay = await t.request('POST', '/sessions/s1/messages', body);
    assert.equal(replay.status, 200);
    assert.equal(replay.body.message_id, first.body.message_id);
    const fresh = await t.request('POST', '/sessions/s1/messages', { ...body, idempotency_key: 'down-2' });
    assert.equal(fresh.status, 409);
  });
});
