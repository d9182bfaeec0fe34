/**
 * File state store: one directory per session, one AES-256-GCM sealed file per record,
 * every write atomic (temporary file + fsync + rename + fsync of the directory).
 *
 *   <dir>/.key-check                       proves SIDECAR_STATE_KEY at start
 *   <dir>/<session>/auth/<name>.enc        creds and signal keys (BufferJSON)
 *   <dir>/<session>/idempotency/<sha256>.enc
 */

import { createHash, randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import { seal, unseal } from '../crypto.js';
import { StateDecryptError, StateKeyError } from '../errors.js';
import { assertSessionId, decode, DEFAULT_IDEMPOTENCY_TTL_MS, encode, SESSION_ID } from './codec.js';

const KEY_CHECK = '.key-check';
const KEY_CHECK_TEXT = 'clientmgr-sidecar-state-v1';
const CONCURRENCY = 16;

/** Record name → file name; anything outside [A-Za-z0-9_-] (and '.') is %-escaped. */
export function fileNameFor(name) {
  const escaped = Buffer.from(name, 'utf8')
    .toString('latin1')
    .replace(/[^A-Za-z0-9_.-]|^\./g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `${escaped}.enc`;
}

const isMissing = (err) => err?.code === 'ENOENT';

async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class FileStore {
  /**
   * @param {{dir: string, key: Buffer, idempotencyTtlMs?: number, fs?: typeof nodeFs, now?: () => number}} options
   */
  constructor({ dir, key, idempotencyTtlMs = DEFAULT_IDEMPOTENCY_TTL_MS, fs = nodeFs, now = Date.now }) {
    if (!dir) throw new TypeError('FileStore needs a dir');
    if (!Buffer.isBuffer(key) || key.length !== 32) throw new TypeError('FileStore needs a 32-byte key');
    this.dir = dir;
    this.key = key;
    this.idempotencyTtlMs = idempotencyTtlMs;
    this.fs = fs;
    this.now = now;
    this.madeDirs = new Set();
  }

  async open() {
    await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const checkPath = join(this.dir, KEY_CHECK);
    let blob = null;
    try {
      blob = await this.fs.readFile(checkPath);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (blob) {
      try {
        if (unseal(this.key, blob, KEY_CHECK).toString('utf8') !== KEY_CHECK_TEXT) throw new Error('mismatch');
      } catch {
        throw new StateKeyError(this.dir);
      }
    } else {
      await this.#atomicWrite(checkPath, seal(this.key, Buffer.from(KEY_CHECK_TEXT), KEY_CHECK));
      await this.#syncDir(this.dir);
    }
    await this.#sweep();
  }

  // -- auth state -------------------------------------------------------------------

  async readAuth(sessionId, names) {
    const dir = this.#authDir(sessionId);
    const values = await mapLimit(names, CONCURRENCY, (name) =>
      this.#readSealed(join(dir, fileNameFor(name)), `${sessionId}\0auth\0${name}`),
    );
    const out = {};
    names.forEach((name, i) => {
      if (values[i] !== undefined) out[name] = values[i];
    });
    return out;
  }

  async writeAuth(sessionId, entries) {
    const dir = this.#authDir(sessionId);
    await this.#mkdir(dir);
    await mapLimit(Object.entries(entries), CONCURRENCY, async ([name, value]) => {
      const path = join(dir, fileNameFor(name));
      if (value === null || value === undefined) {
        await this.fs.rm(path, { force: true });
      } else {
        await this.#atomicWrite(path, seal(this.key, encode(value), `${sessionId}\0auth\0${name}`));
      }
    });
    await this.#syncDir(dir);
  }

  async clearAuth(sessionId) {
    const dir = this.#authDir(sessionId);
    const doomed = `${dir}.deleted-${randomBytes(4).toString('hex')}`;
    try {
      // One rename makes the wipe all-or-nothing; the rm after it may be slow.
      await this.fs.rename(dir, doomed);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    this.madeDirs.delete(dir);
    await this.#syncDir(join(this.dir, sessionId));
    await this.fs.rm(doomed, { recursive: true, force: true });
  }

  async listSessions() {
    let entries;
    try {
      entries = await this.fs.readdir(this.dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const ids = entries.filter((e) => e.isDirectory() && SESSION_ID.test(e.name)).map((e) => e.name);
    const withCreds = await mapLimit(ids, CONCURRENCY, async (id) => {
      try {
        await this.fs.stat(join(this.dir, id, 'auth', fileNameFor('creds')));
        return id;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    });
    return withCreds.filter(Boolean).sort();
  }

  // -- idempotency ------------------------------------------------------------------

  async getIdempotency(sessionId, key) {
    const { path, aad } = this.#idemPath(sessionId, key);
    const stored = await this.#readSealed(path, aad);
    if (!stored || stored.key !== key || this.now() - stored.at > this.idempotencyTtlMs) return null;
    return stored.record;
  }

  async putIdempotency(sessionId, key, record) {
    const { dir, path, aad } = this.#idemPath(sessionId, key);
    await this.#mkdir(dir);
    await this.#atomicWrite(path, seal(this.key, encode({ key, at: this.now(), record }), aad));
    await this.#syncDir(dir);
  }

  async pruneIdempotency() {
    let removed = 0;
    const cutoff = this.now() - this.idempotencyTtlMs;
    for (const id of await this.#sessionDirs()) {
      const dir = join(this.dir, id, 'idempotency');
      let names;
      try {
        names = await this.fs.readdir(dir);
      } catch (err) {
        if (isMissing(err)) continue;
        throw err;
      }
      for (const name of names) {
        const path = join(dir, name);
        const info = await this.fs.stat(path).catch(() => null);
        if (info && info.mtimeMs < cutoff) {
          await this.fs.rm(path, { force: true });
          removed += 1;
        }
      }
    }
    return removed;
  }

  async close() {}

  // -- helpers ----------------------------------------------------------------------

  #authDir(sessionId) {
    return join(this.dir, assertSessionId(sessionId), 'auth');
  }

  #idemPath(sessionId, key) {
    const hash = createHash('sha256').update(String(key)).digest('hex');
    const dir = join(this.dir, assertSessionId(sessionId), 'idempotency');
    return { dir, path: join(dir, `${hash}.enc`), aad: `${sessionId}\0idem\0${hash}` };
  }

  async #readSealed(path, aad) {
    let blob;
    try {
      blob = await this.fs.readFile(path);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    try {
      return decode(unseal(this.key, blob, aad, path));
    } catch (err) {
      if (err instanceof StateDecryptError) throw err;
      throw new StateDecryptError(path, err);
    }
  }

  async #mkdir(dir) {
    if (this.madeDirs.has(dir)) return;
    await this.fs.mkdir(dir, { recursive: true, mode: 0o700 });
    this.madeDirs.add(dir);
  }

  /** Write to a unique temporary file, fsync it, then rename it over `path`. */
  async #atomicWrite(path, data) {
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    let handle = null;
    try {
      handle = await this.fs.open(tmp, 'wx', 0o600);
      await handle.writeFile(data);
      await handle.sync();
      await handle.close();
      handle = null;
      await this.fs.rename(tmp, path);
    } catch (err) {
      if (handle) await handle.close().catch(() => {});
      await this.fs.rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
  }

  /** Make a rename durable: fsync the directory that holds it. */
  async #syncDir(dir) {
    let handle = null;
    try {
      handle = await this.fs.open(dir, 'r');
      await handle.sync();
    } catch (err) {
      // Some filesystems refuse fsync on directories; the rename itself stays atomic.
      if (!['EISDIR', 'EINVAL', 'EPERM', 'ENOENT'].includes(err?.code)) throw err;
    } finally {
      await handle?.close().catch(() => {});
    }
  }

  async #sessionDirs() {
    try {
      const entries = await this.fs.readdir(this.dir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && SESSION_ID.test(e.name)).map((e) => e.name);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  }

  /** Remove what a crash can leave behind: *.tmp files and half-deleted auth dirs. */
  async #sweep() {
    for (const id of await this.#sessionDirs()) {
      const base = join(this.dir, id);
      const top = await this.fs.readdir(base).catch(() => []);
      for (const name of top) {
        if (name.startsWith('auth.deleted-')) await this.fs.rm(join(base, name), { recursive: true, force: true });
      }
      for (const sub of ['auth', 'idempotency']) {
        const names = await this.fs.readdir(join(base, sub)).catch(() => []);
        for (const name of names) {
          if (name.endsWith('.tmp')) await this.fs.rm(join(base, sub, name), { force: true });
        }
      }
    }
  }
}
