import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseStateKey, seal, signBody, unseal } from './crypto.js';
import { ConfigError, StateDecryptError } from './errors.js';

describe('parseStateKey', () => {
  it('accepts 64 hex characters and 32 bytes of base64 (standard or url-safe)', () => {
    const bytes = randomBytes(32);
    assert.deepEqual(parseStateKey(bytes.toString('hex')), bytes);
    assert.deepEqual(parseStateKey(bytes.toString('base64')), bytes);
    assert.deepEqual(parseStateKey(` ${bytes.toString('base64url')} `), bytes);
  });

  it('rejects anything else, saying how to make a key', () => {
    for (const bad of ['', 'short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), 'z'.repeat(64)]) {
      assert.throws(() => parseStateKey(bad), (err) => err instanceof ConfigError && /openssl rand -hex 32/.test(err.message));
    }
  });
});

describe('seal / unseal (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('round-trips and uses a fresh IV each time', () => {
    const a = seal(key, Buffer.from('hello'), 'where');
    const b = seal(key, Buffer.from('hello'), 'where');
    assert.notDeepEqual(a, b);
    assert.equal(unseal(key, a, 'where').toString(), 'hello');
    assert.equal(a.includes('hello'), false);
  });

  it('fails with StateDecryptError on a wrong key, wrong place (AAD) or tampering', () => {
    const blob = seal(key, Buffer.from('hello'), 'where');
    assert.throws(() => unseal(randomBytes(32), blob, 'where', 'file X'), (err) => err instanceof StateDecryptError && /file X/.test(err.message));
    assert.throws(() => unseal(key, blob, 'elsewhere'), StateDecryptError);
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1] ^= 1;
    assert.throws(() => unseal(key, tampered, 'where'), StateDecryptError);
    assert.throws(() => unseal(key, Buffer.from('garbage'), 'where'), StateDecryptError);
  });
});

describe('signBody', () => {
  it('is sha256=<hex HMAC-SHA256 of the raw body>', () => {
    const body = '{"event_id":"x"}';
    assert.equal(signBody('s3cret', body), `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  });
});
