import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { EventSink } from './events.js';
import { memoryLogger, waitFor } from './testing/harness.js';

const SECRET = 'events-secret';

/** A local receiver like the Python web runner: verifies X-Signature on the raw body. */
async function receiver({ failFirst = 0, status = 500 } = {}) {
  const received = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      calls += 1;
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
      const given = Buffer.from(String(req.headers['x-signature'] ?? ''));
      const valid = given.length === expected.length && timingSafeEqual(given, expected);
      if (!valid) {
        res.writeHead(401).end();
        return;
      }
      if (calls <= failFirst) {
        res.writeHead(status).end();
        return;
      }
      received.push(JSON.parse(raw.toString('utf8')));
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/webhooks/sidecar`,
    received,
    get calls() {
      return calls;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('EventSink', () => {
  const closers = [];
  after(async () => {
    for (const c of closers) await c();
  });

  it('POSTs {event_id, type, session_id, ts, data} signed with HMAC-SHA256 of the raw body', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const sink = new EventSink({ url: rx.url, secret: SECRET, baseDelayMs: 5 });
    const sent = sink.publish('qr', 'seller-1', { qr: '2@abc', attempt: 1 }, 'qr:seller-1:1');
    await waitFor(() => rx.received.length === 1);
    const [event] = rx.received;
    assert.deepEqual(Object.keys(event).sort(), ['data', 'event_id', 'session_id', 'ts', 'type']);
    assert.equal(event.event_id, 'qr:seller-1:1');
    assert.equal(event.type, 'qr');
    assert.equal(event.session_id, 'seller-1');
    assert.deepEqual(event.data, { qr: '2@abc', attempt: 1 });
    assert.equal(event.ts, sent.ts);
    assert.ok(!Number.isNaN(Date.parse(event.ts)));
    await sink.close();
  });

  it('a receiver checking another secret rejects every event (the signature is real)', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const { logger, lines } = memoryLogger('warn');
    const sink = new EventSink({ url: rx.url, secret: 'wrong', logger, baseDelayMs: 1, maxAttempts: 2 });
    sink.publish('state', 's1', {});
    await waitFor(() => sink.stats.failed === 1);
    assert.equal(rx.received.length, 0);
    assert.ok(lines.some((l) => l.msg === 'event not delivered: giving up' && l.error === 'HTTP 401'));
  });

  it('retries with backoff until the receiver accepts, keeping the event id and order', async () => {
    const rx = await receiver({ failFirst: 3 });
    closers.push(rx.close);
    const sink = new EventSink({ url: rx.url, secret: SECRET, baseDelayMs: 5, maxDelayMs: 20 });
    const a = sink.publish('state', 's1', { state: 'qr' });
    const b = sink.publish('state', 's1', { state: 'open' });
    await waitFor(() => sink.stats.delivered === 2);
    assert.equal(rx.calls, 5);
    assert.deepEqual(rx.received.map((e) => e.event_id), [a.event_id, b.event_id]);
    assert.equal(sink.pending, 0);
  });

  it('retries when nothing listens, and gives up after maxAttempts', async () => {
    const rx = await receiver();
    await rx.close(); // the port is now closed
    const sink = new EventSink({ url: rx.url, secret: SECRET, baseDelayMs: 1, maxAttempts: 3 });
    const attempts = [];
    const fetchSpy = async (...args) => {
      attempts.push(Date.now());
      return fetch(...args);
    };
    sink.fetch = fetchSpy;
    sink.publish('ack', 's1', {});
    await waitFor(() => sink.stats.failed === 1);
    assert.equal(attempts.length, 3);
  });

  it('backoff doubles from the base, is capped and jittered ±25%', () => {
    const sink = new EventSink({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => sink.backoff(n)), [100, 200, 400, 800, 1000, 1000]);
    const low = new EventSink({ baseDelayMs: 100, random: () => 0 });
    const high = new EventSink({ baseDelayMs: 100, random: () => 0.999999 });
    assert.equal(low.backoff(1), 75);
    assert.equal(high.backoff(1), 125);
  });

  it('holds at most maxQueue events, dropping the oldest', async () => {
    let release;
    const gate = new Promise((r) => (release = r));
    const bodies = [];
    const sink = new EventSink({
      url: 'http://127.0.0.1:9/never',
      secret: SECRET,
      maxQueue: 3,
      fetch: async (_url, init) => {
        await gate;
        bodies.push(JSON.parse(init.body).data.n);
        return new Response(null, { status: 204 });
      },
    });
    for (let n = 0; n < 10; n++) sink.publish('state', 's1', { n });
    assert.equal(sink.pending, 3);
    assert.equal(sink.stats.dropped, 7);
    release();
    await waitFor(() => sink.pending === 0);
    // n=0 was in flight when the queue overflowed: it stays, 1..7 made room.
    assert.deepEqual(bodies, [0, 8, 9]);
  });

  it('without a URL, events are only published locally', async () => {
    let called = false;
    const sink = new EventSink({ fetch: async () => (called = true) });
    const seen = [];
    sink.on('event', (e) => seen.push(e.type));
    sink.publish('qr', 's1', {});
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ['qr']);
    assert.equal(called, false);
  });
});
