import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from './errors.js';
import { digitsOf, isUserJid, jidUser, normalizeJid, parseRecipient, phoneVariants } from './phone.js';

describe('digitsOf', () => {
  it('keeps the digits of international numbers written in common ways', () => {
    assert.equal(digitsOf('+55 (11) 98888-7777'), '5511988887777');
    assert.equal(digitsOf('5511988887777'), '5511988887777');
    assert.equal(digitsOf('+1 415.555.0100'), '14155550100');
  });
  it('rejects what is not a number', () => {
    for (const bad of ['', 'abc', '+0 11 9888', '123', '1'.repeat(16), null, 5511988887777, '55 11 9888a7777']) {
      assert.equal(digitsOf(bad), null, String(bad));
    }
  });
});

describe('phoneVariants (Brazilian 9th digit)', () => {
  it('a 13-digit BR mobile also tries the form without the 9', () => {
    assert.deepEqual(phoneVariants('5511988887777'), ['5511988887777', '551188887777']);
  });
  it('a 12-digit BR mobile also tries the form with the 9', () => {
    assert.deepEqual(phoneVariants('552187654321'), ['552187654321', '5521987654321']);
  });
  it('landlines and other countries get no variant', () => {
    assert.deepEqual(phoneVariants('551133334444'), ['551133334444']);
    assert.deepEqual(phoneVariants('14155550100'), ['14155550100']);
    assert.deepEqual(phoneVariants('5501988887777'), ['5501988887777']); // no DDD 01
  });
});

describe('JIDs', () => {
  it('splits user, device and server', () => {
    assert.equal(jidUser('5511988887777:12@s.whatsapp.net'), '5511988887777');
    assert.equal(normalizeJid('5511988887777:12@s.whatsapp.net'), '5511988887777@s.whatsapp.net');
    assert.equal(normalizeJid('123456789:3@lid'), '123456789@lid');
    assert.equal(isUserJid('123@g.us'), false);
    assert.equal(isUserJid('status@broadcast'), false);
  });

  it('parseRecipient takes a person JID or a phone number', () => {
    assert.deepEqual(parseRecipient('5511988887777@s.whatsapp.net'), { jid: '5511988887777@s.whatsapp.net' });
    assert.deepEqual(parseRecipient('123456789012@lid'), { jid: '123456789012@lid' });
    assert.deepEqual(parseRecipient('+55 11 98888-7777'), { digits: '5511988887777' });
    assert.throws(() => parseRecipient('120363@g.us'), BadRequestError);
    assert.throws(() => parseRecipient('hello'), BadRequestError);
  });
});
