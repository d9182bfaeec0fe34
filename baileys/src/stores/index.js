/**
 * State stores. Every store has the same shape, checked by the same tests:
 *
 *   open()                                   create what is missing, check the key
 *   readAuth(sessionId, names) -> {name: value}   missing names are absent
 *   writeAuth(sessionId, {name: value|null})      null deletes; atomic per record
 *                                                 (file) or per call (postgres)
 *   clearAuth(sessionId)                     wipe the session's auth state
 *   listSessions() -> [sessionId]            sessions that have stored creds
 *   getIdempotency(sessionId, key) -> record|null   null once older than the TTL
 *   putIdempotency(sessionId, key, record)
 *   pruneIdempotency() -> number removed
 *   close()
 *
 * Idempotency records live beside, not inside, the auth state: logging a session
 * out wipes its keys but a key used for a send still never sends twice.
 */

export { FileStore } from './file-store.js';
export { MemoryStore } from './memory-store.js';
export { PostgresStore } from './pg-store.js';
export { loadAuthState } from './auth-state.js';
