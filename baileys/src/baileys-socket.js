/**
 * The real socket factory: a Baileys 7 socket for one session, over the auth state the
 * Session hands in. Only this module talks to WhatsApp; tests inject a fake factory
 * (or `makeSocket`, to check the config without connecting).
 */

import makeWASocket, { makeCacheableSignalKeyStore } from 'baileys';

/**
 * The Baileys config for one session.
 * @param {{auth: {creds: object, keys: object}, logger: object, getMessage?: Function,
 *          overrides?: object}} options
 */
export function buildSocketConfig({ auth, logger, getMessage, overrides = {} }) {
  return {
    auth: {
      creds: auth.creds,
      // An in-memory cache in front of the store: Baileys reads keys very often.
      keys: makeCacheableSignalKeyStore(auth.keys, logger),
    },
    logger,
    // Stay "offline" so the seller's phone keeps getting notifications.
    markOnlineOnConnect: false,
    // A reminder sender needs no chat history: do not download or keep it.
    syncFullHistory: false,
    
    fireInitQueries: true,
    emitOwnEvents: true,
    connectTimeoutMs: 30_000,
    keepAliveIntervalMs: 25_000,
    defaultQueryTimeoutMs: 60_000,
    // Lets Baileys re-encrypt a message a recipient could not decrypt.
    getMessage: getMessage ?? (async () => undefined),
    ...overrides,
  };
}

/**
 * @param {{makeSocket?: typeof makeWASocket, overrides?: object}} [options]
 *   overrides: extra Baileys config (e.g. `version`, `browser`, or in tests a local
 *   `waWebSocketUrl`).
 * @returns {(args: {sessionId: string, auth: object, logger: object, getMessage?: Function}) => Promise<object>}
 */
export function createBaileysSocketFactory({ makeSocket = makeWASocket, overrides = {} } = {}) {
  return async ({ auth, logger, getMessage }) => makeSocket(buildSocketConfig({ auth, logger, getMessage, overrides }));
}
