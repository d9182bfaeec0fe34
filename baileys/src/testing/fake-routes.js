/**
 * HTTP controls for a FakeWhatsApp, mounted under /_fake when the sidecar runs with
 * SIDECAR_FAKE=1 (the offline playground and the Python contract tests drive the
 * simulated phone through them). Same bearer token as the rest of the API.
 *
 *   POST /_fake/sessions/{id}/scan      {phone?, lid?, name?}   the phone scans the QR
 *   POST /_fake/sessions/{id}/qr                                show the next QR now
 *   POST /_fake/sessions/{id}/drop      {status_code?}          transient close (428)
 *   POST /_fake/sessions/{id}/logout                            the phone unlinks us (401)
 *   POST /_fake/sessions/{id}/receive   {from, text, from_lid?} a client writes
 *   POST /_fake/sessions/{id}/ack       {message_id, status}    server|delivered|read|error
 *   POST /_fake/numbers                 {phone, exists?, lid?}  who is on WhatsApp
 *   POST /_fake/fail-sends              {count?, message?}      the next sends throw
 *   GET  /_fake/sent                                            messages that went out
 *   GET  /_fake/presence                                        presence updates shown
 */

import { BadRequestError } from '../errors.js';

/** @param {import('./fake-socket.js').FakeWhatsApp} wa */
export function fakeControlRoutes(wa) {
  return async ({ method, path, readJson }) => {
    if (!path.startsWith('/_fake/')) return null;
    const fail = (reason) => {
      throw new BadRequestError(reason, 'fake_control');
    };
    const run = (fn) => {
      try {
        return fn();
      } catch (err) {
        if (err instanceof BadRequestError) throw err;
        return fail(err.message);
      }
    };
    if (method === 'GET' && path === '/_fake/sent') {
      return {
        status: 200,
        body: wa.sent.map((m) => ({ session_id: m.sessionId, to: m.jid, text: m.content?.text ?? null, message_id: m.id })),
      };
    }
    if (method === 'GET' && path === '/_fake/presence') {
      return {
        status: 200,
        body: wa.presences.map((p) => ({ session_id: p.sessionId, to: p.jid, state: p.type })),
      };
    }
    if (method !== 'POST') return null;
    const body = await readJson({ optional: true });
    if (path === '/_fake/numbers') {
      if (typeof body.phone !== 'string') fail('"phone" is required');
      if (body.exists === false) wa.removeNumber(body.phone);
      else wa.addNumber(body.phone, { lid: body.lid });
      return { status: 200, body: { ok: true } };
    }
    if (path === '/_fake/fail-sends') {
      wa.failSends(Number(body.count ?? 1), body.message);
      return { status: 200, body: { ok: true } };
    }
    const match = /^\/_fake\/sessions\/([A-Za-z0-9_-]{1,64})\/(scan|qr|drop|logout|receive|ack)$/.exec(path);
    if (!match) return null;
    const [, id, action] = match;
    const result = run(() => {
      switch (action) {
        case 'scan':
          return wa.scanQr(id, { phone: body.phone, lid: body.lid, name: body.name });
        case 'qr':
          return wa.rotateQr(id);
        case 'drop':
          return wa.dropConnection(id, body.status_code);
        case 'logout':
          return wa.logOut(id);
        case 'receive':
          if (typeof body.from !== 'string' || typeof body.text !== 'string') fail('"from" and "text" are required');
          return { message_id: wa.receive(id, { from: body.from, text: body.text, fromLid: body.from_lid }) };
        case 'ack':
          if (typeof body.message_id !== 'string') fail('"message_id" is required');
          return wa.ack(id, body.message_id, body.status ?? 'delivered');
        default:
          return fail(`unknown action ${action}`);
      }
    });
    return { status: 200, body: { ok: true, ...(result ?? {}) } };
  };
}
