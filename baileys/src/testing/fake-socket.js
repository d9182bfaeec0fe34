/**
 * A simulated WhatsApp for tests and the offline playground: `FakeWhatsApp` plays the
 * network and the seller's phone, `socketFactory` hands out sockets shaped like
 * Baileys' (an `ev` with on/off/emit, `user`, `sendMessage`, `onWhatsApp`, `logout`,
 * `end`, `sendPresenceUpdate`, `signalRepository.lidMapping.getLIDForPN`), emitting
 * `connection.update` the way Baileys does (`qr`, `connection: 'open' | 'close'`,
 * `lastDisconnect.error.output.statusCode`).
 *
 *   const wa = new FakeWhatsApp({ numbers: ['5511988887777'] });
 *   createServer({ socketFactory: wa.socketFactory, ... });
 *   wa.scanQr('seller-1');            // the phone scans: creds saved, restart, open
 *   wa.dropConnection('seller-1');    // transient close (428)
 *   wa.logOut('seller-1');            // the phone unlinks the device (401)
 *   wa.failSends(2);                  // the next two sends throw
 *   wa.sent                           // every message that "went out"
 *   wa.presences                      // every presence ("typing…") shown, in order
 */

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

export const FakeDisconnect = Object.freeze({
  connectionClosed: 428,
  connectionLost: 408,
  loggedOut: 401,
  restartRequired: 515,
  connectionReplaced: 440,
});

/** An Error shaped like Baileys' Boom errors. */
export function boom(message, statusCode) {
  return Object.assign(new Error(message), { isBoom: true, output: { statusCode, payload: { statusCode, message } } });
}

const digits = (jid) => String(jid).split('@')[0].split(':')[0].replace(/^\+/, '');

export class FakeSocket {
  constructor(network, sessionId, auth, logger) {
    this.network = network;
    this.sessionId = sessionId;
    this.authState = auth;
    this.logger = logger;
    this.ev = new EventEmitter();
    this.ev.setMaxListeners(50);
    this.user = undefined;
    this.isOpen = false;
    this.closed = false;
    this.timers = new Set();
    this.qrCount = 0;
    this.signalRepository = {
      lidMapping: {
        getLIDForPN: async (jid) => network.numbers.get(digits(jid))?.lid ?? null,
      },
    };
  }

  #later(fn, ms) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(timer);
  }

  boot() {
    this.#later(() => {
      this.ev.emit('connection.update', { connection: 'connecting', receivedPendingNotifications: false, qr: undefined });
      if (this.network.failConnects > 0) {
        this.network.failConnects -= 1;
        this.end(boom('Connection Failure', FakeDisconnect.connectionClosed));
        return;
      }
      const me = this.authState.creds.me;
      if (me?.id) this.open();
      else this.rotateQr();
    }, this.network.connectDelayMs);
  }

  open() {
    const me = this.authState.creds.me;
    this.user = { id: me.id, lid: me.lid, name: me.name };
    this.isOpen = true;
    this.ev.emit('connection.update', { connection: 'open', receivedPendingNotifications: true });
  }

  rotateQr() {
    if (this.closed || this.isOpen) return;
    this.qrCount += 1;
    const ref = randomBytes(6).toString('base64');
    this.ev.emit('connection.update', { qr: `2@fake-${this.sessionId}-${this.qrCount}-${ref},fakekey,fakeid,fakeadv` });
    if (this.network.qrIntervalMs > 0) this.#later(() => this.rotateQr(), this.network.qrIntervalMs);
  }

  /** The phone scanned the QR: like Baileys, save creds, then ask for a restart. */
  pair({ phone, lid, name = 'Fake Seller', device = 7 }) {
    const me = { id: `${phone}:${device}@s.whatsapp.net`, lid: lid ? `${lid}:${device}@lid` : undefined, name };
    this.ev.emit('creds.update', { me, registered: true, platform: 'fake' });
    this.ev.emit('connection.update', { isNewLogin: true, qr: undefined });
    this.end(boom('Restart Required', FakeDisconnect.restartRequired));
  }

  async sendMessage(jid, content, options = {}) {
    if (!this.isOpen || this.closed) throw boom('Connection Closed', FakeDisconnect.connectionClosed);
    if (this.network.sendFailures > 0) {
      this.network.sendFailures -= 1;
      throw new Error(this.network.sendFailureMessage);
    }
    const id = options.messageId ?? `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
    const key = { remoteJid: jid, fromMe: true, id };
    this.network.sent.push({ sessionId: this.sessionId, jid, content, id, at: new Date() });
    this.network.emit('sent', { sessionId: this.sessionId, jid, content, id });
    if (this.network.autoAck) {
      this.#later(() => this.ev.emit('messages.update', [{ key, update: { status: 2 } }]), 0);
    }
    return { key, message: content.text ? { conversation: content.text } : content, status: 1 };
  }

  async onWhatsApp(...jids) {
    if (!this.isOpen || this.closed) throw boom('Connection Closed', FakeDisconnect.connectionClosed);
    this.network.lookups.push(jids);
    return jids
      .map((jid) => this.network.resolve(digits(jid)))
      .filter(Boolean)
      .map((number) => ({ jid: `${number}@s.whatsapp.net`, exists: true }));
  }

  async sendPresenceUpdate(type, toJid) {
    if (!this.isOpen || this.closed) throw boom('Connection Closed', FakeDisconnect.connectionClosed);
    this.network.presences.push({ sessionId: this.sessionId, jid: toJid ?? null, type, at: new Date() });
  }

  async logout() {
    this.end(boom('Intentional Logout', FakeDisconnect.loggedOut));
  }

  end(error) {
    if (this.closed) return;
    this.closed = true;
    this.isOpen = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ev.emit('connection.update', {
      connection: 'close',
      lastDisconnect: { error: error ?? boom('Connection Closed', FakeDisconnect.connectionClosed), date: new Date() },
    });
  }
}

export class FakeWhatsApp extends EventEmitter {
  /**
   * @param {{numbers?: Array<string | {phone: string, lid?: string}>, existsByDefault?: boolean,
   *          qrIntervalMs?: number, connectDelayMs?: number, autoAck?: boolean}} [options]
   *   numbers: who is on WhatsApp (digits as WhatsApp knows them, e.g. an old
   *   Brazilian mobile without its 9th digit); existsByDefault: everyone else is too;
   *   qrIntervalMs: rotate QR codes on a timer (0 = only by rotateQr()).
   */
  constructor({ numbers = [], existsByDefault = false, qrIntervalMs = 0, connectDelayMs = 1, autoAck = false } = {}) {
    super();
    this.numbers = new Map();
    /** Numbers taken off WhatsApp: absent even when everyone else exists by default. */
    this.removed = new Set();
    for (const n of numbers) {
      if (typeof n === 'string') this.addNumber(n);
      else this.addNumber(n.phone, { lid: n.lid });
    }
    this.existsByDefault = existsByDefault;
    this.qrIntervalMs = qrIntervalMs;
    this.connectDelayMs = connectDelayMs;
    this.autoAck = autoAck;
    /** @type {FakeSocket[]} */
    this.sockets = [];
    this.sent = [];
    /** Presence updates the sessions sent: {sessionId, jid, type, at}. */
    this.presences = [];
    this.lookups = [];
    this.sendFailures = 0;
    this.sendFailureMessage = 'simulated send failure';
    this.failConnects = 0;
    this.socketFactory = async ({ sessionId, auth, logger }) => {
      const sock = new FakeSocket(this, sessionId, auth, logger);
      this.sockets.push(sock);
      if (this.sockets.length > 200) this.sockets.splice(0, this.sockets.length - 200);
      this.emit('socket', sock);
      sock.boot();
      return sock;
    };
  }

  /** Put `phone` (digits) on WhatsApp, optionally with a LID (digits). */
  addNumber(phone, { lid } = {}) {
    const d = digits(phone);
    this.numbers.set(d, { lid: lid ? `${digits(lid)}@lid` : null });
    this.removed.delete(d);
    return this;
  }

  removeNumber(phone) {
    const d = digits(phone);
    this.numbers.delete(d);
    this.removed.add(d);
    return this;
  }

  /** The number WhatsApp knows for `number`, or null. */
  resolve(number) {
    if (this.numbers.has(number)) return number;
    return this.existsByDefault && !this.removed.has(number) ? number : null;
  }

  /** The latest socket of a session, or undefined. */
  socket(sessionId) {
    for (let i = this.sockets.length - 1; i >= 0; i--) {
      if (this.sockets[i].sessionId === sessionId) return this.sockets[i];
    }
    return undefined;
  }

  #live(sessionId) {
    const sock = this.socket(sessionId);
    if (!sock || sock.closed) throw new Error(`fake WhatsApp: session ${sessionId} has no live socket`);
    return sock;
  }

  /** The seller scans the current QR code with phone `phone`. */
  scanQr(sessionId, { phone = '5511900000001', lid = '100000000000001', name } = {}) {
    const sock = this.#live(sessionId);
    if (sock.isOpen) throw new Error(`fake WhatsApp: session ${sessionId} is already open`);
    sock.pair({ phone: digits(phone), lid: lid ? digits(lid) : undefined, name });
  }

  /** Show the next QR code now. */
  rotateQr(sessionId) {
    this.#live(sessionId).rotateQr();
  }

  /** A transient close (network trouble): Baileys' connectionClosed by default. */
  dropConnection(sessionId, statusCode = FakeDisconnect.connectionClosed) {
    this.#live(sessionId).end(boom('Connection Lost', statusCode));
  }

  /** The phone removed this linked device. */
  logOut(sessionId) {
    this.#live(sessionId).end(boom('Stream Errored (conflict)', FakeDisconnect.loggedOut));
  }

  /** The next `count` sends throw. */
  failSends(count = 1, message = 'simulated send failure') {
    this.sendFailures = count;
    this.sendFailureMessage = message;
  }

  /** The next `count` connections close before showing a QR or opening. */
  failConnections(count = 1) {
    this.failConnects = count;
  }

  /** A delivery receipt for a sent message: 'server' | 'delivered' | 'read' | 'error'. */
  ack(sessionId, messageId, status = 'delivered') {
    const code = { error: 0, server: 2, delivered: 3, read: 4, played: 5 }[status];
    if (code === undefined) throw new Error(`unknown ack status ${status}`);
    const sent = this.sent.find((m) => m.id === messageId && m.sessionId === sessionId);
    const key = { remoteJid: sent?.jid ?? 'unknown@s.whatsapp.net', fromMe: true, id: messageId };
    this.#live(sessionId).ev.emit('messages.update', [{ key, update: { status: code } }]);
  }

  /** A client writes to the seller. `from` is a phone (digits); `fromLid` makes it LID-addressed. */
  receive(sessionId, { from, text, fromLid, pushName = 'Cliente', id } = {}) {
    const messageId = id ?? `FAKE${randomBytes(8).toString('hex').toUpperCase()}`;
    const pn = `${digits(from)}@s.whatsapp.net`;
    const key = fromLid
      ? { remoteJid: `${digits(fromLid)}@lid`, remoteJidAlt: pn, fromMe: false, id: messageId }
      : { remoteJid: pn, fromMe: false, id: messageId };
    this.#live(sessionId).ev.emit('messages.upsert', {
      type: 'notify',
      messages: [
        { key, message: { conversation: text }, pushName, messageTimestamp: Math.floor(Date.now() / 1000) },
      ],
    });
    return messageId;
  }

  /** A flood of undecryptable messages, logged the way Baileys logs them. */
  decryptErrors(sessionId, count = 100) {
    const sock = this.#live(sessionId);
    for (let i = 0; i < count; i++) {
      sock.logger?.error(
        { key: { remoteJid: '5511911112222@s.whatsapp.net', id: `BAD${i}` }, err: { message: 'Bad MAC' } },
        'failed to decrypt message',
      );
      sock.ev.emit('messages.upsert', {
        type: 'notify',
        messages: [{ key: { remoteJid: '5511911112222@s.whatsapp.net', fromMe: false, id: `BAD${i}` }, messageStubType: 2 }],
      });
    }
  }
}
