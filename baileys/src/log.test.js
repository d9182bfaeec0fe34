import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDecryptNoise, LogRateLimiter, requestContext, wrapBaileysLogger } from './log.js';
import { memoryLogger } from './testing/harness.js';

describe('decrypt-error noise', () => {
  it('is recognised in the message, the error or a plain string', () => {
    assert.ok(isDecryptNoise({ err: { message: 'Bad MAC' } }, 'failed to decrypt message'));
    assert.ok(isDecryptNoise({ err: new Error('No session record') }));
    assert.ok(isDecryptNoise('MessageCounterError: Key used already or never filled'));
    assert.equal(isDecryptNoise({ jid: 'x' }, 'connected to WA'), false);
  });

  it('a flood of 20 000 lines writes a bounded number of lines, then one summary', async () => {
    const { logger, lines } = memoryLogger('trace');
    let t = 0;
    const limiter = new LogRateLimiter({
      max: 5,
      windowMs: 1000,
      now: () => t,
      onSummary: (n) => logger.warn({ suppressed: n }, 'decrypt errors suppressed'),
    });
    const log = wrapBaileysLogger(logger, { limiter }).child({ class: 'baileys' });
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20_000; i++) log.error({ err: { message: 'Bad MAC' }, i }, 'failed to decrypt message');
    log.info({ x: 1 }, 'an ordinary line');
    t = 1500; // next window: the summary of the last one comes first
    log.error({ err: { message: 'Bad MAC' } }, 'failed to decrypt message');
    limiter.stop();
    await new Promise((r) => setImmediate(r));
    const decrypt = lines.filter((l) => l.msg === 'failed to decrypt message');
    assert.equal(decrypt.length, 6);
    assert.deepEqual(lines.filter((l) => l.msg === 'decrypt errors suppressed').map((l) => l.suppressed), [19_995]);
    assert.equal(lines.filter((l) => l.msg === 'an ordinary line').length, 1);
    assert.equal(limiter.totalSuppressed, 19_995);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 20 * 1024 * 1024);
  });

  it('the summary also comes by timer when the flood stops', async () => {
    const summaries = [];
    const limiter = new LogRateLimiter({ max: 1, windowMs: 30, onSummary: (n) => summaries.push(n) });
    for (let i = 0; i < 10; i++) limiter.allow();
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(summaries, [9]);
  });

  it('keeps the Baileys ILogger shape (level, child, the five methods)', () => {
    const { logger } = memoryLogger('warn');
    const log = wrapBaileysLogger(logger, {});
    assert.equal(log.level, 'warn');
    for (const m of ['trace', 'debug', 'info', 'warn', 'error']) assert.equal(typeof log[m], 'function');
    assert.equal(typeof log.child({ a: 1 }).child({ b: 2 }).info, 'function');
  });
});

describe('request id on log lines', () => {
  it('every line written while handling a request carries req_id', async () => {
    const { logger, lines } = memoryLogger('info');
    await requestContext.run({ requestId: 'req-123' }, async () => {
      await Promise.resolve();
      logger.child({ session_id: 's1' }).info('inside');
    });
    logger.info('outside');
    assert.equal(lines.find((l) => l.msg === 'inside').req_id, 'req-123');
    assert.equal(lines.find((l) => l.msg === 'outside').req_id, undefined);
  });
});
