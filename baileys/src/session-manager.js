/** All sessions of this process (one per seller's number), by id. */

import { SessionNotFoundError } from './errors.js';
import { Session, SessionState } from './session.js';
import { assertSessionId } from './stores/codec.js';

export class SessionManager {
  /**
   * @param {{store: object, socketFactory: Function, events: import('./events.js').EventSink,
   *          logger: import('pino').Logger, sessionOptions?: object}} deps
   */
  constructor({ store, socketFactory, events, logger, sessionOptions = {} }) {
    if (typeof socketFactory !== 'function') throw new TypeError('SessionManager needs a socketFactory');
    this.store = store;
    this.socketFactory = socketFactory;
    this.events = events;
    this.logger = logger;
    this.sessionOptions = sessionOptions;
    /** @type {Map<string, Session>} */
    this.sessions = new Map();
  }

  /** @returns {Session} or throws SessionNotFoundError */
  get(id) {
    const session = this.sessions.get(id);
    if (!session) throw new SessionNotFoundError(id);
    return session;
  }

  #create(id) {
    assertSessionId(id);
    let session = this.sessions.get(id);
    if (!session) {
      session = new Session({
        id,
        store: this.store,
        socketFactory: this.socketFactory,
        events: this.events,
        logger: this.logger,
        options: this.sessionOptions,
      });
      this.sessions.set(id, session);
    }
    return session;
  }

  /** Start (or resume) a session; a no-op for one already running. */
  async start(id) {
    const created = !this.sessions.has(id);
    const session = this.#create(id);
    await session.start();
    return { session, created };
  }

  /** Log out, wipe the auth state and forget the session. */
  async remove(id) {
    const session = this.get(id);
    await session.logout();
    this.sessions.delete(id);
    return session;
  }

  /** Start every session whose stored creds belong to a linked phone (no new QR needed). */
  async resumeAll() {
    const resumed = [];
    for (const id of await this.store.listSessions()) {
      try {
        const { creds } = await this.store.readAuth(id, ['creds']);
        if (!creds?.me?.id) continue;
        await this.start(id);
        resumed.push(id);
      } catch (err) {
        this.logger.error({ err, session_id: id }, 'could not resume session');
      }
    }
    if (resumed.length) this.logger.info({ sessions: resumed }, 'sessions resumed');
    return resumed;
  }

  /** Count of sessions by state, for /health. */
  stats() {
    const byState = Object.fromEntries(Object.values(SessionState).map((s) => [s, 0]));
    for (const session of this.sessions.values()) byState[session.state] += 1;
    return { total: this.sessions.size, by_state: byState };
  }

  /** Close every socket (no logout) and finish pending state writes. */
  async close() {
    await Promise.all([...this.sessions.values()].map((s) => s.stop('shutdown')));
  }
}
