/**
 * Needs PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 * Each run works in its own schema, dropped at the end. Unreachable → the tests FAIL.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { StateKeyError } from '../errors.js';
import { randomKey } from '../testing/harness.js';
import { PostgresStore } from './pg-store.js';
import { storeContract } from './store-contract.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const schema = `sidecar_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
let pool = null;
let reachable = null;
let tables = 0;

async function connect() {
  if (reachable) return pool;
  if (reachable === false) throw new Error(`PostgreSQL is not reachable at ${DATABASE_URL} (see the first failure)`);
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  try {
    await pool.query(`CREATE SCHEMA ${schema}`);
    reachable = true;
    return pool;
  } catch (err) {
    reachable = false;
    await pool.end().catch(() => {});
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL}: ${err.message}. ` +
        'Start PostgreSQL (and create the "test" database) or point TEST_DATABASE_URL at one; this test does not skip.',
    );
  }
}

after(async () => {
  if (reachable) {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }
});

async function makeStore(opts = {}) {
  const p = await connect();
  const store = new PostgresStore({ pool: p, key: randomKey(), schema, table: `state_${++tables}`, ...opts });
  await store.open();
  return { store, cleanup: async () => store.close() };
}

describe('PostgresStore: database', () => {
  before(async () => {
    await connect();
  });
  it('is reachable', () => assert.equal(reachable, true));
});

storeContract('PostgresStore', makeStore);

describe('PostgresStore', () => {
  it('stores sealed values, never the plaintext', async () => {
    const { store } = await makeStore();
    await store.writeAuth('s1', { creds: { me: { id: '5511988887777:1@s.whatsapp.net' } } });
    await store.putIdempotency('s1', 'k', { to: '5511988887777@s.whatsapp.net' });
    const { rows } = await pool.query(`SELECT value FROM ${store.table}`);
    assert.ok(rows.length >= 3);
    for (const row of rows) assert.equal(row.value.includes('5511988887777'), false);
  });

  it('refuses a table written with another key', async () => {
    const table = `state_${++tables}`;
    const first = new PostgresStore({ pool: await connect(), key: randomKey(), schema, table });
    await first.open();
    const second = new PostgresStore({ pool, key: randomKey(), schema, table });
    await assert.rejects(second.open(), (err) => err instanceof StateKeyError && /SIDECAR_STATE_KEY/.test(err.message));
  });

  it('writes one keys.set call in one transaction (all or nothing)', async () => {
    const { store } = await makeStore();
    await store.writeAuth('s1', { 'pre-key-1': { v: 1 }, 'pre-key-2': { v: 2 } });
    const failing = {
      connect: async () => {
        const client = await pool.connect();
        return {
          query: (text, values) => (/^\s*INSERT/.test(text) ? Promise.reject(new Error('boom')) : client.query(text, values)),
          release: () => client.release(),
        };
      },
      query: (...args) => pool.query(...args),
    };
    const broken = new PostgresStore({ pool: failing, key: store.key, schema, table: store.table.split('.')[1].replaceAll('"', '') });
    await assert.rejects(broken.writeAuth('s1', { 'pre-key-1': null, 'pre-key-3': { v: 3 } }), /boom/);
    const got = await store.readAuth('s1', ['pre-key-1', 'pre-key-2', 'pre-key-3']);
    assert.deepEqual(Object.keys(got).sort(), ['pre-key-1', 'pre-key-2'], 'the delete was rolled back');
  });

  it('writes hundreds of keys in one statement', async () => {
    const { store } = await makeStore();
    const entries = Object.fromEntries(Array.from({ length: 812 }, (_, i) => [`pre-key-${i}`, { public: Buffer.alloc(32, i % 256) }]));
    await store.writeAuth('s1', entries);
    const got = await store.readAuth('s1', Object.keys(entries));
    assert.equal(Object.keys(got).length, 812);
    assert.deepEqual(got['pre-key-300'].public, Buffer.alloc(32, 300 % 256));
  });

  it('prunes idempotency records past the TTL', async () => {
    const { store } = await makeStore({ idempotencyTtlMs: 24 * 3600_000 });
    await store.putIdempotency('s1', 'old', { message_id: 'A' });
    await store.putIdempotency('s1', 'new', { message_id: 'B' });
    await pool.query(`UPDATE ${store.table} SET updated_at = now() - interval '25 hours' WHERE kind = 'idem' AND key = 'old'`);
    assert.equal(await store.pruneIdempotency(), 1);
    assert.equal((await store.getIdempotency('s1', 'new')).message_id, 'B');
  });
});
