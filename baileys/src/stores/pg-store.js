/**
 * PostgreSQL state store (several sidecar replicas, one database). One table keyed by
 * (session_id, kind, key); values are AES-256-GCM sealed BufferJSON; every write call
 * is one transaction.
 *
 *   kind 'auth'  creds and signal keys      kind 'idem'  idempotency records
 *   kind 'meta'  the key check (session_id '')
 */

import pg from 'pg';
import { seal, unseal } from '../crypto.js';
import { StateKeyError } from '../errors.js';
import { assertSessionId, decode, DEFAULT_IDEMPOTENCY_TTL_MS, encode } from './codec.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const KEY_CHECK_TEXT = 'clientmgr-sidecar-state-v1';

function ident(name, what) {
  if (!IDENT.test(name)) throw new TypeError(`invalid ${what} name ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export class PostgresStore {
  /**
   * @param {{connectionString?: string, pool?: pg.Pool, key: Buffer, table?: string,
   *          schema?: string, idempotencyTtlMs?: number, now?: () => number}} options
   */
  constructor({
    connectionString,
    pool,
    key,
    table = 'sidecar_state',
    schema,
    idempotencyTtlMs = DEFAULT_IDEMPOTENCY_TTL_MS,
    now = Date.now,
  }) {
    if (!Buffer.isBuffer(key) || key.length !== 32) throw new TypeError('PostgresStore needs a 32-byte key');
    this.key = key;
    this.ownsPool = !pool;
    this.pool = pool ?? new pg.Pool({ connectionString, max: 5, idleTimeoutMillis: 30_000 });
    // An idle client dropping must not crash the process (a pool passed in is the caller's).
    if (this.ownsPool) this.pool.on('error', () => {});
    this.table = schema ? `${ident(schema, 'schema')}.${ident(table, 'table')}` : ident(table, 'table');
    this.where = schema ? `${schema}.${table}` : table;
    this.idempotencyTtlMs = idempotencyTtlMs;
    this.now = now;
  }

  async open() {
    await this.pool.query(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
        session_id text NOT NULL,
        kind text NOT NULL,
        key text NOT NULL,
        value bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, kind, key)
      )`);
    const aad = 'key-check';
    const { rows } = await this.pool.query(
      `SELECT value FROM ${this.table} WHERE session_id = '' AND kind = 'meta' AND key = 'key-check'`,
    );
    if (rows.length) {
      try {
        if (unseal(this.key, rows[0].value, aad).toString('utf8') !== KEY_CHECK_TEXT) throw new Error('mismatch');
      } catch {
        throw new StateKeyError(`table ${this.where}`);
      }
      return;
    }
    await this.pool.query(
      `INSERT INTO ${this.table} (session_id, kind, key, value) VALUES ('', 'meta', 'key-check', $1)
       ON CONFLICT DO NOTHING`,
      [seal(this.key, Buffer.from(KEY_CHECK_TEXT), aad)],
    );
    await this.open(); // another replica may have won the insert: check against its key
  }

  async readAuth(sessionId, names) {
    assertSessionId(sessionId);
    if (names.length === 0) return {};
    const { rows } = await this.pool.query(
      `SELECT key, value FROM ${this.table} WHERE session_id = $1 AND kind = 'auth' AND key = ANY($2::text[])`,
      [sessionId, names],
    );
    const out = {};
    for (const row of rows) {
      out[row.key] = decode(unseal(this.key, row.value, `${sessionId}\0auth\0${row.key}`, `${this.where}/${sessionId}/${row.key}`));
    }
    return out;
  }

  async writeAuth(sessionId, entries) {
    assertSessionId(sessionId);
    const upKeys = [];
    const upValues = [];
    const deletes = [];
    for (const [name, value] of Object.entries(entries)) {
      if (value === null || value === undefined) deletes.push(name);
      else {
        upKeys.push(name);
        upValues.push(seal(this.key, encode(value), `${sessionId}\0auth\0${name}`));
      }
    }
    await this.#transaction(async (client) => {
      if (deletes.length) {
        await client.query(
          `DELETE FROM ${this.table} WHERE session_id = $1 AND kind = 'auth' AND key = ANY($2::text[])`,
          [sessionId, deletes],
        );
      }
      if (upKeys.length) {
        await client.query(
          `INSERT INTO ${this.table} (session_id, kind, key, value, updated_at)
           SELECT $1, 'auth', k, v, now() FROM unnest($2::text[], $3::bytea[]) AS t(k, v)
           ON CONFLICT (session_id, kind, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
          [sessionId, upKeys, upValues],
        );
      }
    });
  }

  async clearAuth(sessionId) {
    assertSessionId(sessionId);
    await this.pool.query(`DELETE FROM ${this.table} WHERE session_id = $1 AND kind = 'auth'`, [sessionId]);
  }

  async listSessions() {
    const { rows } = await this.pool.query(
      `SELECT session_id FROM ${this.table} WHERE kind = 'auth' AND key = 'creds' ORDER BY session_id`,
    );
    return rows.map((r) => r.session_id);
  }

  async getIdempotency(sessionId, key) {
    assertSessionId(sessionId);
    const { rows } = await this.pool.query(
      `SELECT value FROM ${this.table} WHERE session_id = $1 AND kind = 'idem' AND key = $2`,
      [sessionId, key],
    );
    if (!rows.length) return null;
    const stored = decode(unseal(this.key, rows[0].value, `${sessionId}\0idem\0${key}`, `${this.where}/${sessionId}/idem`));
    if (this.now() - stored.at > this.idempotencyTtlMs) return null;
    return stored.record;
  }

  async putIdempotency(sessionId, key, record) {
    assertSessionId(sessionId);
    const value = seal(this.key, encode({ key, at: this.now(), record }), `${sessionId}\0idem\0${key}`);
    await this.pool.query(
      `INSERT INTO ${this.table} (session_id, kind, key, value, updated_at) VALUES ($1, 'idem', $2, $3, now())
       ON CONFLICT (session_id, kind, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [sessionId, key, value],
    );
  }

  async pruneIdempotency() {
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${this.table} WHERE kind = 'idem' AND updated_at < now() - make_interval(secs => $1)`,
      [this.idempotencyTtlMs / 1000],
    );
    return rowCount ?? 0;
  }

  async close() {
    if (this.ownsPool) await this.pool.end();
  }

  async #transaction(fn) {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
