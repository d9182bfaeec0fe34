/** Small helpers shared by the test files (and handy in a playground). */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { EventSink } from '../events.js';
import { createLogger } from '../log.js';
import { createServer } from '../server.js';
import { MemoryStore } from '../stores/memory-store.js';
import { FakeWhatsApp } from './fake-socket.js';

export const TEST_TOKEN = 'test-token-0123456789';

/** Timers short enough for a test suite. */
export const FAST_SESSION_OPTIONS = Object.freeze({
  reconnectBaseMs: 10,
  reconnectMaxMs: 40,
  restartDelayMs: 0,
  sendTimeoutMs: 2000,
  lookupTimeoutMs: 2000,
  random: () => 0.5,
});

/** Poll `predicate` until it returns something truthy; fail after `timeoutMs`. */
export async function waitFor(predicate, { timeoutMs = 3000, intervalMs = 2, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A pino logger writing JSON lines into memory. */
export function memoryLogger(level = 'info') {
  const lines = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ level, destination: stream }), lines };
}

export async function tempDir(prefix = 'sidecar-test-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const randomKey = () => randomBytes(32);

/**
 * Start an app on 127.0.0.1:0 with a fake WhatsApp; returns helpers to call it.
 * @param {{store?: object, wa?: FakeWhatsApp, events?: EventSink, logger?: object,
 *          sessionOptions?: object, token?: string, bodyLimit?: number, resume?: boolean}} [options]
 */
export async function startTestApp({
  store = new MemoryStore(),
  wa = new FakeWhatsApp(),
  events,
  logger,
  sessionOptions = {},
  token = TEST_TOKEN,
  bodyLimit,
  resume = true,
  extraRoutes,
} = {}) {
  logger ??= memoryLogger('info').logger;
  events ??= new EventSink({ logger });
  const published = [];
  events.on('event', (e) => published.push(e));
  const app = createServer({
    socketFactory: wa.socketFactory,
    store,
    token,
    events,
    logger,
    bodyLimit,
    extraRoutes,
    sessionOptions: { ...FAST_SESSION_OPTIONS, ...sessionOptions },
  });
  const { url } = await app.listen(0, '127.0.0.1');
  if (resume) await app.resume();

  async function request(method, path, body, { headers = {}, auth = true, raw } = {}) {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, body: json, headers: res.headers, text };
  }

  /** POST /sessions/{id}, scan the QR, wait until open. */
  async function linkSession(id, scan = {}) {
    await request('POST', `/sessions/${id}`);
    await waitFor(() => app.manager.sessions.get(id)?.state === 'qr', { what: `${id} to show a QR` });
    wa.scanQr(id, scan);
    await waitFor(() => app.manager.sessions.get(id)?.state === 'open', { what: `${id} to open` });
    return app.manager.get(id);
  }

  return { app, url, wa, store, events, published, request, linkSession, close: () => app.close({ eventsTimeoutMs: 50 }) };
}
