import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fakeControlRoutes } from './fake-routes.js';
import { FakeWhatsApp } from './fake-socket.js';
import { startTestApp, waitFor } from './harness.js';

describe('fake control routes (/_fake)', () => {
  const wa = new FakeWhatsApp();
  let t;
  after(async () => t?.close());

  it('drive the simulated phone over HTTP', async () => {
    t = await startTestApp({ wa, extraRoutes: fakeControlRoutes(wa) });
    const state = async () => (await t.request('GET', '/sessions/s1')).body.state;
    await t.request('POST', '/sessions/s1');
    await waitFor(async () => (await state()) === 'qr');
    assert.equal((await t.request('POST', '/_fake/sessions/s1/qr')).status, 200);
    assert.equal(t.published.filter((e) => e.type === 'qr').length, 2);
    assert.equal((await t.request('POST', '/_fake/sessions/s1/scan', { phone: '5511900000077' })).status, 200);
    await waitFor(async () => (await state()) === 'open');

    assert.equal((await t.request('POST', '/_fake/numbers', { phone: '5511988887777', lid: '123' })).status, 200);
    const lookup = await t.request('POST', '/sessions/s1/lookup', { phones: ['5511988887777'] });
    assert.deepEqual(lookup.body[0], { phone: '5511988887777', exists: true, jid: '5511988887777@s.whatsapp.net', lid: '123@lid' });
    await t.request('POST', '/_fake/numbers', { phone: '5511988887777', exists: false });
    assert.equal(wa.numbers.has('5511988887777'), false);

    await t.request('POST', '/_fake/fail-sends', { count: 1 });
    const body = { to: '5511900000001@s.whatsapp.net', text: 'x', idempotency_key: 'k' };
    assert.equal((await t.request('POST', '/sessions/s1/messages', body)).status, 502);
    const sent = await t.request('POST', '/sessions/s1/messages', body);
    assert.deepEqual((await t.request('GET', '/_fake/sent')).body, [
      { session_id: 's1', to: '5511900000001@s.whatsapp.net', text: 'x', message_id: sent.body.message_id },
    ]);
    await t.request('POST', '/sessions/s1/presence', { to: '5511900000001@s.whatsapp.net', state: 'composing' });
    assert.deepEqual((await t.request('GET', '/_fake/presence')).body, [
      { session_id: 's1', to: '5511900000001@s.whatsapp.net', state: 'composing' },
    ]);
    await t.request('POST', '/_fake/sessions/s1/ack', { message_id: sent.body.message_id, status: 'read' });
    assert.equal(t.published.find((e) => e.type === 'ack')?.data.status, 'read');
    const rx = await t.request('POST', '/_fake/sessions/s1/receive', { from: '5511988887777', text: 'PARAR' });
    assert.match(rx.body.message_id, /^FAKE/);
    assert.equal(t.published.find((e) => e.type === 'message')?.data.text, 'PARAR');

    await t.request('POST', '/_fake/sessions/s1/drop');
    await waitFor(async () => (await state()) === 'open', { what: 'reconnect' });
    await t.request('POST', '/_fake/sessions/s1/logout');
    await waitFor(async () => (await state()) === 'logged_out');
    const bad = await t.request('POST', '/_fake/sessions/s1/scan');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'fake_control');
    assert.equal((await t.request('POST', '/_fake/sessions/s1/scan', undefined, { auth: false })).status, 401);
  });
});
