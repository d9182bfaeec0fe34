import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { initAuthCreds } from 'baileys';
import { StateDecryptError, StateKeyError } from '../errors.js';
import { randomKey, tempDir } from '../testing/harness.js';
import { FileStore, fileNameFor } from './file-store.js';
import { storeContract } from './store-contract.js';

storeContract('FileStore', async (opts = {}) => {
  const { dir, cleanup } = await tempDir();
  const store = new FileStore({ dir, key: randomKey(), ...opts });
  await store.open();
  return { store, cleanup };
});

async function listFiles(dir) {
  const out = [];
  for (const entry of await nodeFs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath ?? entry.path, entry.name));
  }
  return out;
}

describe('FileStore', () => {
  const cleanups = [];
  after(async () => {
    for (const c of cleanups) await c();
  });
  const setup = async (options = {}) => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    const key = options.key ?? randomKey();
    const store = new FileStore({ dir: tmp.dir, key, ...options });
    await store.open();
    return { store, dir: tmp.dir, key };
  };

  it('encrypts at rest: no file holds the plaintext, and the same value seals differently each write', async () => {
    const { store, dir } = await setup();
    const secret = 'PLAINTEXT-MARKER-5511988887777';
    const creds = { ...initAuthCreds(), me: { id: '5511988887777:3@s.whatsapp.net', name: secret } };
    await store.writeAuth('seller-1', { creds });
    await store.putIdempotency('seller-1', 'key-with-phone-5511988887777', { message_id: 'M', to: secret });
    const path = join(dir, 'seller-1', 'auth', fileNameFor('creds'));
    const first = await nodeFs.readFile(path);
    for (const file of await listFiles(dir)) {
      const bytes = await nodeFs.readFile(file);
      for (const needle of [secret, '5511988887777', 'noiseKey', '"type":"Buffer"']) {
        assert.equal(bytes.includes(needle), false, `${file} contains ${needle}`);
      }
    }
    await store.writeAuth('seller-1', { creds });
    const second = await nodeFs.readFile(path);
    assert.notDeepEqual(first.subarray(1, 13), second.subarray(1, 13), 'a fresh IV per write');
    assert.equal((await store.readAuth('seller-1', ['creds'])).creds.me.name, secret);
    const mode = (await nodeFs.stat(path)).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  it('refuses to open state written with another key, naming the key variable', async () => {
    const { store, dir } = await setup();
    await store.writeAuth('s1', { creds: initAuthCreds() });
    const other = new FileStore({ dir, key: randomKey() });
    await assert.rejects(other.open(), (err) => err instanceof StateKeyError && /SIDECAR_STATE_KEY does not match/.test(err.message));
  });

  it('fails clearly on a record it cannot decrypt (wrong key or tampering)', async () => {
    const { store, dir } = await setup();
    await store.writeAuth('s1', { creds: initAuthCreds() });
    const path = join(dir, 's1', 'auth', fileNameFor('creds'));
    const bytes = await nodeFs.readFile(path);
    bytes[bytes.length - 1] ^= 0xff;
    await nodeFs.writeFile(path, bytes);
    await assert.rejects(store.readAuth('s1', ['creds']), (err) => err instanceof StateDecryptError && err.message.includes(path));
    // A record moved under another name does not decrypt either (bound by AAD).
    await store.writeAuth('s1', { 'pre-key-1': { a: 1 }, 'pre-key-2': { a: 2 } });
    await nodeFs.copyFile(join(dir, 's1', 'auth', fileNameFor('pre-key-1')), join(dir, 's1', 'auth', fileNameFor('pre-key-2')));
    await assert.rejects(store.readAuth('s1', ['pre-key-2']), StateDecryptError);
  });

  it('writes atomically: a failed rename leaves the old value readable and no temporary file', async () => {
    let failRename = false;
    const fs = {
      ...nodeFs,
      rename: async (from, to) => {
        if (failRename) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
        return nodeFs.rename(from, to);
      },
    };
    const { store, dir } = await setup({ fs });
    await store.writeAuth('s1', { creds: { version: 1 } });
    failRename = true;
    await assert.rejects(store.writeAuth('s1', { creds: { version: 2 } }), /disk full/);
    failRename = false;
    assert.deepEqual((await store.readAuth('s1', ['creds'])).creds, { version: 1 });
    const files = await listFiles(dir);
    assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, files.join('\n'));
  });

  it('writes through a temporary file that is fsynced before the rename', async () => {
    const calls = [];
    const fs = {
      ...nodeFs,
      open: async (path, flags, mode) => {
        const handle = await nodeFs.open(path, flags, mode);
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          calls.push(['sync', path]);
          return sync();
        };
        return handle;
      },
      rename: async (from, to) => {
        calls.push(['rename', from, to]);
        return nodeFs.rename(from, to);
      },
    };
    const { store } = await setup({ fs });
    calls.length = 0;
    await store.writeAuth('s1', { creds: { a: 1 } });
    const rename = calls.findIndex((c) => c[0] === 'rename');
    assert.ok(rename > 0, 'renamed');
    const [, tmp, target] = calls[rename];
    assert.match(tmp, /\.tmp$/);
    assert.ok(target.endsWith(fileNameFor('creds')));
    assert.ok(calls.slice(0, rename).some((c) => c[0] === 'sync' && c[1] === tmp), 'tmp file fsynced before rename');
    assert.ok(calls.slice(rename).some((c) => c[0] === 'sync' && c[1].endsWith('auth')), 'directory fsynced after');
  });

  it('survives many concurrent writes of one key: the file is always one whole value', async () => {
    const { store } = await setup();
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.writeAuth('s1', { creds: { i, pad: 'x'.repeat(5000) } })));
    const { creds } = await store.readAuth('s1', ['creds']);
    assert.ok(Number.isInteger(creds.i) && creds.pad.length === 5000);
  });

  it('sweeps temporary files and half-deleted directories left by a crash', async () => {
    const { store, dir, key } = await setup();
    await store.writeAuth('s1', { creds: { a: 1 } });
    await nodeFs.writeFile(join(dir, 's1', 'auth', 'creds.enc.123.abc.tmp'), 'partial');
    await nodeFs.mkdir(join(dir, 's1', 'auth.deleted-dead'), { recursive: true });
    const reopened = new FileStore({ dir, key });
    await reopened.open();
    const files = await listFiles(dir);
    assert.equal(files.some((f) => f.endsWith('.tmp')), false);
    assert.deepEqual(await nodeFs.readdir(join(dir, 's1')), ['auth']);
    assert.deepEqual((await reopened.readAuth('s1', ['creds'])).creds, { a: 1 });
  });

  it('prunes idempotency records older than the TTL', async () => {
    const { store, dir } = await setup({ idempotencyTtlMs: 24 * 3600_000 });
    await store.putIdempotency('s1', 'old', { message_id: 'A' });
    const [oldFile] = await listFiles(join(dir, 's1', 'idempotency'));
    const stamp = new Date(Date.now() - 25 * 3600_000);
    await nodeFs.utimes(oldFile, stamp, stamp);
    await store.putIdempotency('s1', 'new', { message_id: 'B' });
    const removed = await store.pruneIdempotency();
    assert.equal(removed, 1);
    assert.equal((await listFiles(join(dir, 's1', 'idempotency'))).length, 1);
  });
});
