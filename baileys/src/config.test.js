import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

const key = randomBytes(32).toString('hex');

describe('loadConfig', () => {
  it('has safe defaults: loopback, port 3000, file store in ./state', () => {
    const config = loadConfig({ SIDECAR_TOKEN: 'tok', SIDECAR_STATE_KEY: key });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 3000);
    assert.equal(config.store, 'file');
    assert.equal(config.stateDir, './state');
    assert.equal(config.stateKey.length, 32);
    assert.equal(config.maxQrCodes, 5);
    assert.equal(config.idempotencyTtlMs, 72 * 3600_000);
    assert.equal(config.fake, false);
    assert.equal(config.resume, true);
    assert.equal(loadConfig({ SIDECAR_TOKEN: 'tok', SIDECAR_STATE_KEY: key, SIDECAR_RESUME: '0' }).resume, false);
  });

  it('lists every problem at once, each saying what to do', () => {
    assert.throws(
      () => loadConfig({ SIDECAR_STORE: 'postgres', SIDECAR_PORT: 'x', SIDECAR_EVENTS_URL: 'http://127.0.0.1:1/ev' }),
      (err) => {
        assert.ok(err instanceof ConfigError);
        const text = err.message;
        for (const part of ['SIDECAR_TOKEN is missing', 'DATABASE_URL', 'SIDECAR_STATE_KEY is missing', 'SIDECAR_PORT', 'SIDECAR_EVENTS_SECRET']) {
          assert.ok(text.includes(part), `${part} in ${text}`);
        }
        return true;
      },
    );
  });

  it('fake mode needs no state key; the idempotency TTL never goes under 24 h', () => {
    assert.equal(loadConfig({ SIDECAR_TOKEN: 't', SIDECAR_FAKE: '1' }).stateKey, null);
    assert.throws(() => loadConfig({ SIDECAR_TOKEN: 't', SIDECAR_FAKE: '1', SIDECAR_IDEMPOTENCY_TTL_HOURS: '2' }), /between 24/);
    assert.throws(() => loadConfig({ SIDECAR_TOKEN: 't', SIDECAR_STATE_KEY: 'nope' }), /64 hex/);
  });
});
