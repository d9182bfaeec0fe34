/**
 * Baileys' AuthenticationState `{creds, keys: {get, set}}` over a state store, in
 * place of `useMultiFileAuthState`. Writes of one session go through one queue, so a
 * later write never lands before an earlier one; `dispose()` drains the queue and
 * turns later writes into no-ops (a logged-out session is not written back to life).
 */

import { initAuthCreds, proto } from 'baileys';

/**
 * @param {import('./index.js').FileStore} store any state store
 * @param {string} sessionId
 */
export async function loadAuthState(store, sessionId) {
  const stored = await store.readAuth(sessionId, ['creds']);
  const creds = stored.creds ?? initAuthCreds();
  let tail = Promise.resolve();
  let disposed = false;
  let pendingCreds = null;

  const enqueue = (write) => {
    const run = tail.then(() => (disposed ? undefined : write()));
    tail = run.catch(() => {}); // one failed write must not block the next ones
    return run;
  };

  const keys = {
    async get(type, ids) {
      const names = ids.map((id) => `${type}-${id}`);
      const found = await store.readAuth(sessionId, names);
      const out = {};
      ids.forEach((id, i) => {
        let value = found[names[i]];
        if (value === undefined) return;
        if (type === 'app-state-sync-key' && value) value = proto.Message.AppStateSyncKeyData.fromObject(value);
        out[id] = value;
      });
      return out;
    },
    async set(data) {
      const entries = {};
      for (const type of Object.keys(data)) {
        for (const id of Object.keys(data[type] ?? {})) {
          entries[`${type}-${id}`] = data[type][id] ?? null;
        }
      }
      if (Object.keys(entries).length) await enqueue(() => store.writeAuth(sessionId, entries));
    },
  };

  /** Save the whole creds object; calls made while a save is queued share it. */
  const saveCreds = () => {
    if (pendingCreds) return pendingCreds;
    pendingCreds = enqueue(() => {
      pendingCreds = null;
      return store.writeAuth(sessionId, { creds });
    });
    return pendingCreds;
  };

  return {
    state: { creds, keys },
    saveCreds,
    /** Resolves when every queued write has finished. */
    flush: () => tail,
    /** Finish queued writes, then ignore any further ones. */
    async dispose() {
      await tail;
      disposed = true;
    },
  };
}
