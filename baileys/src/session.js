/**
 * One WhatsApp number: its socket, its lifecycle (connecting → qr → open → closed |
 * logged_out), reconnects with backoff, idempotent sends, "typing…" presence updates and
 * number lookups. Every socket event handler runs inside `#guard`, so one bad event never
 * takes the process (or the other sessions) down.
 */

import { createHash } from 'node:crypto';
import { DisconnectReason } from 'baileys';
import { NotOnWhatsAppError, SendFailedError, SessionNotOpenError, BadRequestError } from './errors.js';
import { LogRateLimiter, wrapBaileysLogger } from './log.js';
import {
  digitsOf,
  isLidJid,
  isPhoneJid,
  isUserJid,
  jidUser,
  normalizeJid,
  parseRecipient,
  phoneToJid,
  phoneVariants,
} from './phone.js';
import { loadAuthState } from './stores/auth-state.js';

export const SessionState = Object.freeze({
  CONNECTING: 'connecting',
  QR: 'qr',
  OPEN: 'open',
  CLOSED: 'closed',
  LOGGED_OUT: 'logged_out',
});

export const DEFAULT_SESSION_OPTIONS = Object.freeze({
  /** Stop after this many QR codes went unanswered (state closed, reason qr_timeout). */
  maxQrCodes: 5,
  /** Reconnect delay: base·2^(attempt-1), capped at max, with jitter (50–100%). */
  reconnectBaseMs: 1000,
  reconnectMaxMs: 60_000,
  /** Give up (closed, reconnect_failed) after this many failed reconnects in a row. */
  maxReconnectAttempts: Infinity,
  /** Delay before reconnecting when WhatsApp asks for a restart (after pairing). */
  restartDelayMs: 0,
  sendTimeoutMs: 30_000,
  lookupTimeoutMs: 20_000,
  lookupCacheTtlMs: 10 * 60_000,
  lookupCacheSize: 1000,
  /** Sent texts kept for Baileys' getMessage (re-encrypting on a recipient's retry). */
  sentCacheSize: 256,
  baileysLogLevel: 'warn',
  /** At most this many decrypt-error log lines per window per session. */
  decryptLogMax: 10,
  decryptLogWindowMs: 60_000,
  random: Math.random,
});

/** Baileys message status (proto.WebMessageInfo.Status) → ack event status. */
const ACK_STATUS = { 0: 'error', 2: 'server', 3: 'delivered', 4: 'read', 5: 'read' };
const ACK_NAMES = { ERROR: 0, SERVER_ACK: 2, DELIVERY_ACK: 3, READ: 4, PLAYED: 5 };

/** Close codes after which reconnecting cannot help: the phone must act first. */
const TERMINAL_CLOSE = new Map([
  [DisconnectReason.forbidden, 'forbidden'],
  [DisconnectReason.connectionReplaced, 'connection_replaced'],
  [DisconnectReason.multideviceMismatch, 'multidevice_mismatch'],
]);

/**
 * The WhatsApp message id used for an idempotency key: the same key always sends
 * under the same id (Baileys' '3EB0' + 18 hex format), so even a send retried after
 * a crash between "sent" and "recorded" reuses the id the first attempt had.
 */
export function messageIdFor(sessionId, idempotencyKey) {
  const hash = createHash('sha256').update(`clientmgr\0${sessionId}\0${idempotencyKey}`).digest('hex');
  return `3EB0${hash.toUpperCase().slice(0, 18)}`;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Text of a message, unwrapping ephemeral / view-once envelopes; null if none. */
export function messageText(message, depth = 0) {
  if (!message || depth > 3) return null;
  if (typeof message.conversation === 'string' && message.conversation) return message.conversation;
  if (typeof message.extendedTextMessage?.text === 'string') return message.extendedTextMessage.text;
  const inner =
    message.ephemeralMessage?.message ??
    message.viewOnceMessage?.message ??
    message.viewOnceMessageV2?.message ??
    message.documentWithCaptionMessage?.message ??
    message.editedMessage?.message;
  if (inner) return messageText(inner, depth + 1);
  for (const media of ['imageMessage', 'videoMessage', 'documentMessage']) {
    if (typeof message[media]?.caption === 'string') return message[media].caption;
  }
  return null;
}

function ackCode(status) {
  if (typeof status === 'number') return status;
  if (typeof status === 'string' && status in ACK_NAMES) return ACK_NAMES[status];
  return null;
}

export class Session {
  /**
   * @param {{id: string, store: object, socketFactory: Function, events: import('./events.js').EventSink,
   *          logger: import('pino').Logger, options?: Partial<typeof DEFAULT_SESSION_OPTIONS>}} deps
   */
  constructor({ id, store, socketFactory, events, logger, options = {} }) {
    this.id = id;
    this.store = store;
    this.socketFactory = socketFactory;
    this.events = events;
    this.options = { ...DEFAULT_SESSION_OPTIONS, ...options };
    this.logger = logger.child({ session_id: id });
    this.decryptLimiter = new LogRateLimiter({
      max: this.options.decryptLogMax,
      windowMs: this.options.decryptLogWindowMs,
      onSummary: (count, windowMs) =>
        this.logger.warn({ suppressed: count, window_ms: windowMs }, 'decrypt errors suppressed'),
    });
    this.baileysLogger = wrapBaileysLogger(
      this.logger.child({ component: 'baileys' }, { level: this.options.baileysLogLevel }),
      { limiter: this.decryptLimiter },
    );

    this.state = SessionState.CLOSED;
    this.reason = null;
    this.qr = null;
    this.phone = null;
    this.lid = null;
    this.qrCount = 0;
    this.reconnectAttempts = 0;
    this.updatedAt = new Date();

    this.running = false;
    this.generation = 0;
    this.sock = null;
    this.listeners = [];
    this.auth = null;
    this.wiping = null;
    this.reconnectTimer = null;
    this.inflight = new Map();
    this.sentCache = new Map();
    this.lookupCache = new Map();
  }

  toJSON() {
    return {
      id: this.id,
      state: this.state,
      qr: this.qr,
      phone: this.phone,
      lid: this.lid,
      reason: this.reason,
      qr_attempts: this.qrCount,
      max_qr_attempts: this.options.maxQrCodes,
      updated_at: this.updatedAt.toISOString(),
    };
  }

  /** True when stored creds belong to a linked phone (a restart resumes without a QR). */
  get paired() {
    return Boolean(this.auth?.state.creds.me?.id);
  }

  /** Start or resume. A no-op while connecting, showing a QR or open. */
  async start() {
    if (this.running) return this;
    this.running = true;
    this.qrCount = 0;
    this.reconnectAttempts = 0;
    this.reason = null;
    this.logger.info('session starting');
    await this.#connect();
    return this;
  }

  /** Close the socket without logging out (shutdown); auth state stays. */
  async stop(reason = 'stopped') {
    this.#halt(SessionState.CLOSED, reason, { emit: false });
    await this.auth?.flush();
  }

  /** Log the phone out (best effort), wipe the auth state, state logged_out. */
  async logout() {
    const sock = this.sock;
    const wasOpen = this.state === SessionState.OPEN;
    this.#halt(SessionState.LOGGED_OUT, 'logged_out', { emit: false, end: false });
    if (sock) {
      if (wasOpen) {
        await withTimeout(Promise.resolve().then(() => sock.logout()), 10_000, 'logout').catch((err) =>
          this.logger.warn({ err }, 'logout request failed; wiping local state anyway'),
        );
      }
      this.#end(sock);
    }
    await this.#wipe();
    this.#emitState();
  }

  // -- connection lifecycle ---------------------------------------------------------

  async #connect() {
    const generation = ++this.generation;
    this.#clearReconnect();
    this.#setState(SessionState.CONNECTING);
    try {
      await this.wiping?.catch(() => {}); // a fresh start must not read half-wiped state
      this.auth ??= await loadAuthState(this.store, this.id);
    } catch (err) {
      this.logger.error({ err }, 'cannot read the stored auth state');
      if (generation === this.generation) this.#halt(SessionState.CLOSED, 'state_unreadable');
      return;
    }
    if (generation !== this.generation) return;
    let sock;
    try {
      sock = await this.socketFactory({
        sessionId: this.id,
        auth: this.auth.state,
        logger: this.baileysLogger,
        getMessage: async (key) => this.#cachedMessage(key),
      });
    } catch (err) {
      this.logger.error({ err }, 'socket factory failed');
      if (generation === this.generation) this.#onClose({ output: { statusCode: 0 }, message: err.message });
      return;
    }
    if (generation !== this.generation || !this.running) {
      this.#end(sock);
      return;
    }
    this.#attach(sock);
  }

  #attach(sock) {
    this.sock = sock;
    const on = (event, handler) => {
      const guarded = this.#guard(event, (payload) => {
        if (this.sock !== sock) return undefined; // a late event of a replaced socket
        return handler(payload);
      });
      sock.ev.on(event, guarded);
      this.listeners.push([sock, event, guarded]);
    };
    on('connection.update', (update) => this.#onConnectionUpdate(update));
    on('creds.update', (update) => this.#onCredsUpdate(update));
    on('messages.update', (updates) => this.#onMessagesUpdate(updates));
    on('messages.upsert', (upsert) => this.#onMessagesUpsert(upsert));
  }

  #detach() {
    for (const [sock, event, handler] of this.listeners) {
      try {
        sock.ev.off(event, handler);
      } catch {
        // a broken emitter must not stop the others from detaching
      }
    }
    this.listeners = [];
    const sock = this.sock;
    this.sock = null;
    return sock;
  }

  #end(sock) {
    try {
      const result = sock?.end?.(undefined);
      if (result?.catch) result.catch(() => {});
    } catch (err) {
      this.logger.debug({ err }, 'ending the socket failed');
    }
  }

  #guard(name, fn) {
    return (payload) => {
      try {
        const result = fn(payload);
        if (result?.catch) {
          result.catch((err) => this.logger.error({ err, event: name }, 'event handler failed'));
        }
      } catch (err) {
        this.logger.error({ err, event: name }, 'event handler failed');
      }
    };
  }

  #onConnectionUpdate({ connection, qr, lastDisconnect } = {}) {
    if (qr) {
      this.qrCount += 1;
      if (this.qrCount > this.options.maxQrCodes) {
        this.logger.info({ qr_codes: this.qrCount - 1 }, 'QR codes unanswered: giving up');
        this.#halt(SessionState.CLOSED, 'qr_timeout');
        return;
      }
      this.qr = qr;
      this.#setState(SessionState.QR);
      this.#publish('qr', { qr, attempt: this.qrCount, max_attempts: this.options.maxQrCodes });
    }
    if (connection === 'open') this.#onOpen();
    if (connection === 'close') this.#onClose(lastDisconnect?.error);
  }

  #onOpen() {
    const me = this.sock?.user ?? this.auth?.state.creds.me;
    this.phone = jidUser(me?.id) ?? null;
    this.lid = me?.lid ? normalizeJid(me.lid) : null;
    this.qr = null;
    this.qrCount = 0;
    this.reconnectAttempts = 0;
    this.reason = null;
    this.#setState(SessionState.OPEN);
  }

  #onClose(error) {
    const code = error?.output?.statusCode ?? error?.statusCode ?? null;
    this.#detach();
    this.qr = null;
    this.logger.info({ code, error: error?.message }, 'connection closed');
    if (!this.running) return;

    if (code === DisconnectReason.loggedOut) {
      this.#halt(SessionState.LOGGED_OUT, 'logged_out', { emit: false });
      this.#wipe()
        .catch((err) => this.logger.error({ err }, 'wiping the auth state failed'))
        .finally(() => this.#emitState());
      return;
    }
    if (TERMINAL_CLOSE.has(code)) {
      this.#halt(SessionState.CLOSED, TERMINAL_CLOSE.get(code));
      return;
    }
    if (!this.paired) {
      // Never loop on a socket that never got as far as a QR code.
      if (this.qrCount === 0) {
        this.#halt(SessionState.CLOSED, 'connect_failed');
        return;
      }
      if (this.qrCount >= this.options.maxQrCodes) {
        this.#halt(SessionState.CLOSED, 'qr_timeout');
        return;
      }
    }
    let delay;
    if (code === DisconnectReason.restartRequired) {
      delay = this.options.restartDelayMs;
    } else {
      this.reconnectAttempts += 1;
      if (this.reconnectAttempts > this.options.maxReconnectAttempts) {
        this.#halt(SessionState.CLOSED, 'reconnect_failed');
        return;
      }
      delay = this.backoff(this.reconnectAttempts);
    }
    this.reason = code === DisconnectReason.restartRequired ? 'restart_required' : `connection_lost:${code ?? 'unknown'}`;
    this.#setState(SessionState.CONNECTING, { force: true });
    this.logger.info({ delay_ms: delay, attempt: this.reconnectAttempts }, 'reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.#connect().catch((err) => this.logger.error({ err }, 'reconnect failed'));
    }, delay);
  }

  /** Delay before reconnect n: base·2^(n-1), capped, times a jitter in [0.5, 1). */
  backoff(attempt) {
    const { reconnectBaseMs, reconnectMaxMs, random } = this.options;
    const raw = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** (attempt - 1));
    return Math.round(raw * (0.5 + random() * 0.5));
  }

  #clearReconnect() {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** Stop for good (until the next start): no socket, no timer. */
  #halt(state, reason, { emit = true, end = true } = {}) {
    this.running = false;
    this.generation += 1;
    this.#clearReconnect();
    const sock = this.#detach();
    if (end && sock) this.#end(sock);
    this.qr = null;
    this.reason = reason;
    this.state = state;
    this.updatedAt = new Date();
    if (emit) this.#emitState();
  }

  #wipe() {
    const auth = this.auth;
    this.auth = null;
    this.phone = null;
    this.lid = null;
    this.sentCache.clear();
    this.lookupCache.clear();
    const previous = this.wiping ?? Promise.resolve();
    const wiping = previous
      .then(() => auth?.dispose())
      .then(() => this.store.clearAuth(this.id))
      .finally(() => {
        if (this.wiping === wiping) this.wiping = null;
      });
    this.wiping = wiping;
    return wiping;
  }

  #setState(state, { force = false } = {}) {
    if (this.state === state && !force) return;
    this.state = state;
    this.updatedAt = new Date();
    this.#emitState();
  }

  #emitState() {
    this.#publish('state', { state: this.state, reason: this.reason, phone: this.phone, lid: this.lid });
  }

  #publish(type, data, eventId) {
    try {
      this.events?.publish(type, this.id, data, eventId);
    } catch (err) {
      this.logger.error({ err, type }, 'publishing an event failed');
    }
  }

  // -- socket events ----------------------------------------------------------------

  async #onCredsUpdate(update) {
    const auth = this.auth;
    if (!auth) return;
    Object.assign(auth.state.creds, update);
    await auth.saveCreds();
  }

  #onMessagesUpdate(updates) {
    for (const { key, update } of updates ?? []) {
      if (!key?.fromMe || !key.id || update?.status == null) continue;
      const status = ACK_STATUS[ackCode(update.status)];
      if (!status) continue;
      this.#publish(
        'ack',
        { message_id: key.id, to: key.remoteJid ?? null, status },
        `ack:${this.id}:${key.id}:${status}`,
      );
    }
  }

  #onMessagesUpsert({ messages, type } = {}) {
    if (type !== 'notify') return; // 'append' is history, not something new
    for (const msg of messages ?? []) {
      const key = msg?.key;
      if (!key?.id || key.fromMe || !isUserJid(key.remoteJid)) continue;
      const text = messageText(msg.message);
      if (text === null) continue; // undecryptable stubs, media, reactions…
      const jids = [key.remoteJid, key.remoteJidAlt, key.senderPn, key.senderLid].filter(Boolean);
      const pn = jids.find(isPhoneJid);
      const lid = jids.find(isLidJid);
      this.#publish(
        'message',
        {
          message_id: key.id,
          from: key.remoteJid,
          from_phone: pn ? jidUser(pn) : null,
          from_lid: lid ? normalizeJid(lid) : null,
          push_name: msg.pushName ?? null,
          text: text.slice(0, 4096),
          timestamp: Number(msg.messageTimestamp) || null,
        },
        `message:${this.id}:${key.remoteJid}:${key.id}`,
      );
    }
  }

  #cachedMessage(key) {
    const text = this.sentCache.get(key?.id);
    return text === undefined ? undefined : { conversation: text };
  }

  #rememberSent(id, text) {
    this.sentCache.set(id, text);
    while (this.sentCache.size > this.options.sentCacheSize) {
      this.sentCache.delete(this.sentCache.keys().next().value);
    }
  }

  // -- sending ----------------------------------------------------------------------

  /**
   * Send `text` once per `idempotencyKey` (also across restarts, through the store;
   * concurrent calls with one key share one send).
   * @returns {Promise<{message_id: string, to: string, duplicate: boolean}>}
   */
  async send({ to, text, idempotencyKey }) {
    const running = this.inflight.get(idempotencyKey);
    if (running) return { ...(await running), duplicate: true };
    const attempt = this.#sendOnce(to, text, idempotencyKey);
    this.inflight.set(idempotencyKey, attempt);
    try {
      return await attempt;
    } finally {
      this.inflight.delete(idempotencyKey);
    }
  }

  async #sendOnce(to, text, idempotencyKey) {
    const prior = await this.store.getIdempotency(this.id, idempotencyKey);
    if (prior) {
      this.logger.info({ idempotency_key: idempotencyKey, message_id: prior.message_id }, 'duplicate send ignored');
      return { message_id: prior.message_id, to: prior.to, duplicate: true };
    }
    this.#assertOpen();
    const jid = await this.#recipientJid(to);
    const messageId = messageIdFor(this.id, idempotencyKey);
    const sock = this.sock;
    let sent;
    try {
      sent = await withTimeout(
        // linkPreview: null — no link-preview fetch of URLs in the text (no extra requests, no delay).
        Promise.resolve().then(() => sock.sendMessage(jid, { text, linkPreview: null }, { messageId })),
        this.options.sendTimeoutMs,
        'send',
      );
    } catch (err) {
      this.logger.warn({ err, message_id: messageId }, 'send failed');
      throw new SendFailedError(err?.message ?? String(err), err);
    }
    const id = sent?.key?.id ?? messageId;
    this.#rememberSent(id, text);
    const record = { message_id: id, to: jid, sent_at: new Date().toISOString() };
    try {
      await this.store.putIdempotency(this.id, idempotencyKey, record);
    } catch (err) {
      // The message went out; a retry would reuse the same message id.
      this.logger.error({ err, message_id: id }, 'recording the idempotency key failed');
    }
    this.logger.info({ message_id: id, idempotency_key: idempotencyKey }, 'message sent');
    return { message_id: id, to: jid, duplicate: false };
  }

  /**
   * Show the contact `state` ('composing': "typing…", 'paused': stopped) in the chat with
   * `to`, resolved as `send` resolves it. Nothing is stored: a presence expires on its own
   * after a few seconds, so there is nothing to make idempotent.
   * @returns {Promise<{to: string, state: string}>}
   */
  async presence({ to, state }) {
    this.#assertOpen();
    const jid = await this.#recipientJid(to);
    const sock = this.sock;
    try {
      await withTimeout(
        Promise.resolve().then(() => sock.sendPresenceUpdate(state, jid)),
        this.options.sendTimeoutMs,
        'presence update',
      );
    } catch (err) {
      this.logger.warn({ err, state }, 'presence update failed');
      throw new SendFailedError(err?.message ?? String(err), err, 'the presence update');
    }
    return { to: jid, state };
  }

  #assertOpen() {
    if (this.state !== SessionState.OPEN || !this.sock) throw new SessionNotOpenError(this.id, this.state);
  }

  /** A person's JID `to` as is; a phone number looked up (9th-digit variants) first. */
  async #recipientJid(to) {
    const recipient = parseRecipient(to);
    if (recipient.jid) return recipient.jid;
    const [hit] = await this.#lookupDigits([recipient.digits]);
    if (!hit.exists) throw new NotOnWhatsAppError(to);
    return hit.jid;
  }

  // -- lookups ----------------------------------------------------------------------

  /**
   * Which of `phones` are on WhatsApp, with their real JID (a Brazilian mobile is
   * tried with and without the 9th digit) and LID when WhatsApp has told us one.
   * @returns {Promise<Array<{phone: string, exists: boolean, jid: string|null, lid: string|null}>>}
   */
  async lookup(phones) {
    this.#assertOpen();
    const digits = phones.map((p) => {
      const d = digitsOf(p);
      if (!d) throw new BadRequestError(`not a phone number with country code: ${JSON.stringify(p)}`);
      return d;
    });
    const found = await this.#lookupDigits(digits);
    return found.map((hit, i) => ({ phone: phones[i], ...hit }));
  }

  async #lookupDigits(digitsList) {
    const now = Date.now();
    const results = new Array(digitsList.length);
    const todo = [];
    digitsList.forEach((digits, i) => {
      const cached = this.lookupCache.get(digits);
      if (cached && now - cached.at < this.options.lookupCacheTtlMs) results[i] = cached.value;
      else todo.push(i);
    });
    if (todo.length) {
      const unique = [...new Set(todo.map((i) => digitsList[i]))];
      const resolved = await this.#queryWhatsApp(unique);
      for (const i of todo) {
        const value = resolved.get(digitsList[i]);
        results[i] = value;
        this.#cacheLookup(digitsList[i], value, now);
      }
    }
    return results;
  }

  #cacheLookup(digits, value, at) {
    this.lookupCache.delete(digits);
    this.lookupCache.set(digits, { value, at });
    while (this.lookupCache.size > this.options.lookupCacheSize) {
      this.lookupCache.delete(this.lookupCache.keys().next().value);
    }
  }

  /** One onWhatsApp query for every variant of every number; map answers back. */
  async #queryWhatsApp(digitsList) {
    const sock = this.sock;
    const ask = async (numbers) => {
      const jids = numbers.map(phoneToJid);
      const answer = await withTimeout(
        Promise.resolve().then(() => sock.onWhatsApp(...jids)),
        this.options.lookupTimeoutMs,
        'lookup',
      );
      return (answer ?? []).filter((r) => r?.exists && r.jid);
    };
    const variants = new Map(digitsList.map((d) => [d, phoneVariants(d)]));
    const answers = await ask([...new Set([...variants.values()].flat())]);
    const byUser = new Map(answers.map((r) => [jidUser(r.jid), r]));
    const matched = new Set();
    const out = new Map();
    for (const [digits, forms] of variants) {
      const form = forms.find((f) => byUser.has(f));
      if (form) {
        matched.add(form);
        out.set(digits, byUser.get(form));
      }
    }
    // WhatsApp may answer with a JID that is none of the forms asked (other national
    // rules): then ask again number by number for the ones still unresolved.
    const stray = answers.some((r) => !matched.has(jidUser(r.jid)));
    if (stray) {
      for (const digits of digitsList) {
        if (out.has(digits)) continue;
        const [hit] = await ask(variants.get(digits));
        if (hit) out.set(digits, hit);
      }
    }
    const result = new Map();
    for (const digits of digitsList) {
      const hit = out.get(digits);
      if (!hit) {
        result.set(digits, { exists: false, jid: null, lid: null });
        continue;
      }
      const jid = normalizeJid(hit.jid);
      const lid = hit.lid ? normalizeJid(hit.lid) : await this.#lidFor(sock, jid);
      result.set(digits, { exists: true, jid, lid });
    }
    return result;
  }

  async #lidFor(sock, jid) {
    const lidMapping = sock?.signalRepository?.lidMapping;
    if (typeof lidMapping?.getLIDForPN !== 'function') return null;
    try {
      const lid = await withTimeout(
        Promise.resolve().then(() => lidMapping.getLIDForPN(jid)),
        this.options.lookupTimeoutMs,
        'LID lookup',
      );
      return lid && isLidJid(lid) ? normalizeJid(lid) : null;
    } catch (err) {
      this.logger.debug({ err }, 'LID lookup failed');
      return null;
    }
  }
}
