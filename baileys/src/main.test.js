/** The real process: `node src/main.js` in fake mode (SIDECAR_FAKE=1), as the Python contract tests run it. */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { tempDir, waitFor } from './testing/harness.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const TOKEN = 'process-test-token';
const SECRET = 'process-events-secret';

function launch(env) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, SIDECAR_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { lines: [], stderr: '' };
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        out.lines.push(JSON.parse(line));
      } catch {
        out.lines.push({ raw: line });
      }
    }
  });
  child.stderr.on('data', (chunk) => (out.stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, out, exited };
}

async function listening(proc) {
  const line = await waitFor(() => proc.out.lines.find((l) => l.msg === 'sidecar listening'), { timeoutMs: 10_000, what: 'listening line' });
  const base = line.url;
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return { base, call };
}

async function receiver() {
  const events = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const ok = req.headers['x-signature'] === `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
      if (ok) events.push(JSON.parse(raw));
      res.writeHead(ok ? 200 : 401).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/events`, events, close: () => new Promise((r) => server.close(r)) };
}

describe('src/main.js', () => {
  const cleanups = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  it('refuses to start without SIDECAR_TOKEN, saying what is missing (exit 2)', async () => {
    const proc = launch({});
    const { code } = await proc.exited;
    assert.equal(code, 2);
    assert.match(proc.out.stderr, /SIDECAR_TOKEN is missing/);
    assert.match(proc.out.stderr, /SIDECAR_STATE_KEY is missing/);
  });

  it('serves the API, posts signed events, stops on SIGTERM and resumes after a restart', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const rx = await receiver();
    cleanups.push(rx.close);
    const env = {
      SIDECAR_TOKEN: TOKEN,
      SIDECAR_FAKE: '1',
      SIDECAR_STATE_DIR: dir,
      SIDECAR_STATE_KEY: randomBytes(32).toString('hex'),
      SIDECAR_EVENTS_URL: rx.url,
      SIDECAR_EVENTS_SECRET: SECRET,
    };

    const first = launch(env);
    const api = await listening(first);
    assert.equal(new URL(api.base).hostname, '127.0.0.1');
    assert.equal((await fetch(`${api.base}/health`)).status, 200);
    assert.equal((await api.call('POST', '/sessions/seller-1')).status, 201);
    await waitFor(async () => (await api.call('GET', '/sessions/seller-1')).body.state === 'qr');
    assert.equal((await api.call('POST', '/_fake/sessions/seller-1/scan', { phone: '5511900000042' })).status, 200);
    await waitFor(async () => (await api.call('GET', '/sessions/seller-1')).body.state === 'open');
    const body = { to: '+55 11 98888-7777', text: 'Oi', idempotency_key: 'proc-1' };
    const sent = await api.call('POST', '/sessions/seller-1/messages', body);
    assert.equal(sent.status, 200);
    const { message_id: id } = sent.body;
    assert.equal((await api.call('POST', '/_fake/sessions/seller-1/receive', { from: '5511988887777', text: 'SAIR' })).status, 200);
    await waitFor(() => rx.events.some((e) => e.type === 'message') && rx.events.some((e) => e.type === 'ack'), { what: 'events' });
    assert.ok(rx.events.some((e) => e.type === 'qr'));
    assert.ok(rx.events.some((e) => e.type === 'state' && e.data.state === 'open'));
    assert.equal(rx.events.find((e) => e.type === 'ack').data.message_id, id);
    assert.equal(rx.events.find((e) => e.type === 'message').data.text, 'SAIR');
    first.child.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null });

    const second = launch(env);
    cleanups.push(() => second.child.kill('SIGKILL'));
    const api2 = await listening(second);
    await waitFor(async () => (await api2.call('GET', '/sessions/seller-1')).body.state === 'open', { what: 'resumed' });
    const again = await api2.call('POST', '/sessions/seller-1/messages', body);
    assert.deepEqual(again.body, { message_id: id, to: '5511988887777@s.whatsapp.net', duplicate: true });
    assert.deepEqual((await api2.call('GET', '/_fake/sent')).body, []);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);

    const wrongKey = launch({ ...env, SIDECAR_STATE_KEY: randomBytes(32).toString('hex') });
    const { code } = await wrongKey.exited;
    assert.equal(code, 1);
    assert.ok(wrongKey.out.lines.some((l) => /SIDECAR_STATE_KEY does not match/.test(l.msg)), JSON.stringify(wrongKey.out.lines));
  });
});
