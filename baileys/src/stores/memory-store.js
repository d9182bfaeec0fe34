/** In-memory state store (fake mode without a key, and fast tests). Nothing survives a restart. */

import { assertSessionId, decode, DEFAULT_IDEMPOTENCY_TTL_MS, encode } from './codec.js';

export class MemoryStore {
  constructor({ idempotencyTtlMs = DEFAULT_IDEMPOTENCY_TTL_MS, now = Date.now } = {}) {
    this.idempotencyTtlMs = idempotencyTtlMs;
    this.now = now;
    /** @type {Map<string, Map<string, Buffer>>} */
    this.auth = new Map();
    /** @type {Map<string, {at: number, bytes: Buffer}>} */
    this.idem = new Map();
  }

  async open() {}

  async readAuth(sessionId, names) {
    const ns = this.auth.get(assertSessionId(sessionId));
    const out = {};
    for (const name of names) {
      const bytes = ns?.get(name);
      if (bytes) out[name] = decode(bytes);
    }
    return out;
  }

  async writeAuth(sessionId, entries) {
    assertSessionId(sessionId);
    let ns = this.auth.get(sessionId);
    if (!ns) this.auth.set(sessionId, (ns = new Map()));
    for (const [name, value] of Object.entries(entries)) {
      if (value === null || value === undefined) ns.delete(name);
      else ns.set(name, encode(value));
    }
  }

  async clearAuth(sessionId) {
    this.auth.delete(assertSessionId(sessionId));
  }

  async listSessions() {
    return [...this.auth].filter(([, ns]) => ns.has('creds')).map(([id]) => id);
  }

  async getIdempotency(sessionId, key) {
    const hit = this.idem.get(`${assertSessionId(sessionId)}\0${key}`);
    if (!hit || this.now() - hit.at > this.idempotencyTtlMs) return null;
    return decode(hit.bytes);
  }

  async putIdempotency(sessionId, key, record) {
    this.idem.set(`${assertSessionId(sessionId)}\0${key}`, { at: this.now(), bytes: encode(record) });
  }

  async pruneIdempotency() {
    let removed = 0;
    for (const [k, v] of this.idem) {
      if (this.now() - v.at > this.idempotencyTtlMs) {
        this.idem.delete(k);
        removed += 1;
      }
    }
    return removed;
  }

  async close() {}
}
