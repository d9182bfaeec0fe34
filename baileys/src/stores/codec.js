/** Serialisation of stored values with Baileys' BufferJSON (Buffers survive the round trip). */

import { BufferJSON } from 'baileys';

export const encode = (value) => Buffer.from(JSON.stringify(value, BufferJSON.replacer), 'utf8');
export const decode = (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8'), BufferJSON.reviver);

/** Session ids name directories and rows: keep them boring. */
export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function assertSessionId(id) {
  if (typeof id !== 'string' || !SESSION_ID.test(id)) {
    throw new TypeError(`invalid session id ${JSON.stringify(id)}: use 1-64 of A-Z a-z 0-9 _ -`);
  }
  return id;
}

export const DEFAULT_IDEMPOTENCY_TTL_MS = 72 * 60 * 60 * 1000;
