/**
 * Outgoing events: `{event_id, type, session_id, ts, data}` POSTed to SIDECAR_EVENTS_URL
 * with `X-Signature: sha256=<HMAC-SHA256 of the raw body>`. One queue, delivered in
 * order; a failure or non-2xx answer is retried with exponential backoff and jitter,
 * up to `maxAttempts`; the queue holds at most `maxQueue` events (the oldest is
 * dropped first). Each event keeps its `event_id` across retries, and ids are derived
 * from what happened where that is possible, so the receiver can ignore repeats.
 */

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { signBody } from './crypto.js';

export class EventSink extends EventEmitter {
  /**
   * @param {{url?: string, secret?: string, logger?: import('pino').Logger, fetch?: typeof fetch,
   *          maxQueue?: number, maxAttempts?: number, baseDelayMs?: number, maxDelayMs?: number,
   *          timeoutMs?: number, random?: () => number}} [options]
   */
  constructor({
    url,
    secret,
    logger,
    fetch: fetchImpl = globalThis.fetch,
    maxQueue = 1000,
    maxAttempts = 10,
    baseDelayMs = 500,
    maxDelayMs = 60_000,
    timeoutMs = 10_000,
    random = Math.random,
  } = {}) {
    super();
    if (url && !secret) throw new TypeError('events need a secret to sign them');
    this.url = url || null;
    this.secret = secret;
    this.logger = logger;
    this.fetch = fetchImpl;
    this.maxQueue = Math.max(2, maxQueue);
    this.inflight = null;
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.timeoutMs = timeoutMs;
    this.random = random;
    this.queue = [];
    this.running = null;
    this.closed = false;
    this.wake = null;
    this.stats = { delivered: 0, failed: 0, dropped: 0 };
  }

  /**
   * Queue one event. `eventId` should be stable for the same fact (an ack, a message).
   * @returns {{event_id: string, type: string, session_id: string, ts: string, data: object}}
   */
  publish(type, sessionId, data = {}, eventId = randomUUID()) {
    const event = { event_id: eventId, type, session_id: sessionId, ts: new Date().toISOString(), data };
    try {
      this.emit('event', event);
    } catch (err) {
      this.logger?.error({ err }, 'local event listener failed');
    }
    if (!this.url || this.closed) return event;
    if (this.queue.length >= this.maxQueue) {
      // The oldest event not being delivered right now makes room.
      const [dropped] = this.queue.splice(this.queue[0] === this.inflight ? 1 : 0, 1);
      this.stats.dropped += 1;
      this.logger?.warn({ event_id: dropped.event.event_id, type: dropped.event.type }, 'event queue full: oldest event dropped');
    }
    this.queue.push({ event, body: JSON.stringify(event), attempts: 0 });
    this.#kick();
    return event;
  }

  get pending() {
    return this.queue.length;
  }

  /** Wait up to `timeoutMs` for the queue to drain, then stop. */
  async close({ timeoutMs = 2000 } = {}) {
    if (this.running && this.queue.length) {
      let timer;
      await Promise.race([this.running, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.wake?.();
    await this.running;
    if (this.queue.length) this.logger?.warn({ undelivered: this.queue.length }, 'events left undelivered at shutdown');
  }

  #kick() {
    if (!this.running) {
      this.running = this.#drain().finally(() => {
        this.running = null;
        if (this.queue.length && !this.closed) this.#kick();
      });
    }
  }

  async #drain() {
    while (this.queue.length && !this.closed) {
      const item = this.queue[0];
      item.attempts += 1;
      this.inflight = item;
      const error = await this.#deliver(item.body);
      this.inflight = null;
      if (!error) {
        this.queue.shift();
        this.stats.delivered += 1;
        continue;
      }
      const log = { event_id: item.event.event_id, type: item.event.type, attempt: item.attempts, error };
      if (item.attempts >= this.maxAttempts) {
        this.queue.shift();
        this.stats.failed += 1;
        this.logger?.error(log, 'event not delivered: giving up');
        continue;
      }
      const delay = this.backoff(item.attempts);
      this.logger?.warn({ ...log, retry_in_ms: delay }, 'event delivery failed: will retry');
      await this.#sleep(delay);
    }
  }

  /** Delay before attempt n+1: base·2^(n-1), capped, with ±25% jitter. */
  backoff(attempt) {
    const raw = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(raw * (0.75 + this.random() * 0.5));
  }

  async #deliver(body) {
    try {
      const res = await this.fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-signature': signBody(this.secret, body),
          'user-agent': 'clientmgr-baileys-sidecar',
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer().catch(() => {});
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      return err?.cause?.code ?? err?.name ?? String(err);
    }
  }

  #sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
