/** AES-256-GCM sealing of stored records and HMAC signing of outgoing events. */

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { ConfigError, StateDecryptError } from './errors.js';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Parse SIDECAR_STATE_KEY: 32 bytes written as 64 hex characters or as base64.
 * @param {string} text
 * @returns {Buffer}
 */
export function parseStateKey(text) {
  const value = String(text ?? '').trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  throw new ConfigError(
    'SIDECAR_STATE_KEY must be 32 bytes written as 64 hex characters or base64 ' +
      '(generate one with: openssl rand -hex 32)',
  );
}

/**
 * Encrypt `plaintext` with a fresh random IV. `aad` binds the blob to where it is
 * stored, so a record copied under another name or session does not decrypt.
 * Layout: version (1) | iv (12) | tag (16) | ciphertext.
 */
export function seal(key, plaintext, aad) {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

/** Decrypt a blob made by `seal`; throws StateDecryptError naming `where`. */
export function unseal(key, blob, aad, where = 'a stored record') {
  try {
    if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== VERSION) {
      throw new Error('not a sealed record');
    }
    const iv = blob.subarray(1, 1 + IV_BYTES);
    const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw new StateDecryptError(where, err);
  }
}

/** `sha256=<hex>` HMAC of the raw body, as sent in X-Signature. */
export function signBody(secret, body) {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
