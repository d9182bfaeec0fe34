/** Phone numbers and WhatsApp JIDs: digits, Brazilian 9th-digit variants, JID parts. */

import { BadRequestError } from './errors.js';

const USER_SERVER = 's.whatsapp.net';

/**
 * The digits of an international number ("+55 (11) 98888-7777" → "5511988887777"),
 * or null when it is not 8–15 digits once spaces, dots, dashes, parentheses and a
 * leading + are removed.
 */
export function digitsOf(input) {
  if (typeof input !== 'string') return null;
  const cleaned = input.trim().replace(/^\+/, '').replace(/[\s().-]/g, '');
  return /^[1-9]\d{7,14}$/.test(cleaned) ? cleaned : null;
}

/**
 * The numbers to ask WhatsApp about for `digits`. A Brazilian mobile
 * (55 + DDD + 9 + 8 digits) may be registered without its 9th digit (accounts from
 * before 2016) and an 8-digit one may have gained it, so both forms are returned,
 * the given one first. Only subscriber numbers starting 6–9 (mobiles) get a variant:
 * adding a 9 to a landline could name somebody else's phone.
 */
export function phoneVariants(digits) {
  const m13 = /^55([1-9]{2})9([6-9]\d{7})$/.exec(digits);
  if (m13) return [digits, `55${m13[1]}${m13[2]}`];
  const m12 = /^55([1-9]{2})([6-9]\d{7})$/.exec(digits);
  if (m12) return [digits, `55${m12[1]}9${m12[2]}`];
  return [digits];
}

export const phoneToJid = (digits) => `${digits}@${USER_SERVER}`;

/** "5511988887777:12@s.whatsapp.net" → "5511988887777". */
export function jidUser(jid) {
  if (typeof jid !== 'string') return null;
  const at = jid.indexOf('@');
  const user = at === -1 ? jid : jid.slice(0, at);
  return user.split(':')[0] || null;
}

export function jidServer(jid) {
  if (typeof jid !== 'string') return null;
  const at = jid.indexOf('@');
  return at === -1 ? null : jid.slice(at + 1);
}

/** The JID without the device part: "55119…:12@s.whatsapp.net" → "55119…@s.whatsapp.net". */
export function normalizeJid(jid) {
  const user = jidUser(jid);
  const server = jidServer(jid);
  return user && server ? `${user}@${server}` : null;
}

export const isPhoneJid = (jid) => jidServer(jid) === USER_SERVER;
export const isLidJid = (jid) => jidServer(jid) === 'lid';
/** A one-to-one chat (phone number or LID), not a group, broadcast or channel. */
export const isUserJid = (jid) => isPhoneJid(jid) || isLidJid(jid);

/**
 * Parse a `to` field: a JID of a person (…@s.whatsapp.net or …@lid) is used as is;
 * anything else must be a phone number. Throws BadRequestError otherwise.
 * @returns {{jid: string} | {digits: string}}
 */
export function parseRecipient(to) {
  if (typeof to === 'string' && to.includes('@')) {
    const jid = normalizeJid(to.trim());
    if (jid && isUserJid(jid) && /^\d{5,20}$/.test(jidUser(jid))) return { jid };
    throw new BadRequestError(`"to" is not a person's WhatsApp JID: ${to}`);
  }
  const digits = digitsOf(to);
  if (!digits) {
    throw new BadRequestError(
      `"to" must be a phone number with country code (e.g. +5511988887777) or a JID, got ${JSON.stringify(to)}`,
    );
  }
  return { digits };
}
