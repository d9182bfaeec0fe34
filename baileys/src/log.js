/**
 * JSON logging (pino) with the caller's request id on every line written while a
 * request is handled, and a rate limit on Baileys' decrypt-error noise.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

/** Holds `{requestId}` for the duration of one HTTP request. */
export const requestContext = new AsyncLocalStorage();

/**
 * @param {{level?: string, destination?: import('node:stream').Writable}} [options]
 */
export function createLogger({ level = 'info', destination } = {}) {
  return pino(
    {
      level,
      base: { service: 'baileys-sidecar' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = requestContext.getStore();
        return ctx?.requestId ? { req_id: ctx.requestId } : {};
      },
    },
    destination,
  );
}

const NOISE =
  /bad mac|failed to decrypt|no session record|no matching sessions|no sessions|messagecountererror|key used already|invalid prekey id|session error/i;

/** True for log calls about undecryptable messages (a flood of them is common). */
export function isDecryptNoise(obj, msg) {
  if (typeof obj === 'string') return NOISE.test(obj);
  if (typeof msg === 'string' && NOISE.test(msg)) return true;
  const err = obj?.err ?? obj?.error;
  const text = err?.message ?? (typeof err === 'string' ? err : undefined);
  return typeof text === 'string' && NOISE.test(text);
}

/**
 * Lets at most `max` lines per `windowMs` through and counts the rest; when a window
 * with suppressed lines ends, `onSummary(count, windowMs)` is called once. Memory is
 * a few numbers, however many lines arrive.
 */
export class LogRateLimiter {
  constructor({ max = 10, windowMs = 60_000, now = Date.now, onSummary = () => {} } = {}) {
    this.max = max;
    this.windowMs = windowMs;
    this.now = now;
    this.onSummary = onSummary;
    this.windowStart = 0;
    this.count = 0;
    this.suppressed = 0;
    this.totalSuppressed = 0;
    this.timer = null;
  }

  allow() {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) this.#roll(t);
    this.count += 1;
    if (this.count <= this.max) return true;
    this.suppressed += 1;
    this.totalSuppressed += 1;
    if (!this.timer) {
      this.timer = setTimeout(() => this.#roll(this.now()), this.windowMs - (t - this.windowStart));
      this.timer.unref?.();
    }
    return false;
  }

  #roll(t) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.suppressed > 0) this.onSummary(this.suppressed, this.windowMs);
    this.windowStart = t;
    this.count = 0;
    this.suppressed = 0;
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * Wrap a pino logger into Baileys' ILogger, passing decrypt-error lines through
 * `limiter` (shared by every child, so a session's whole logger tree is bounded).
 */
export function wrapBaileysLogger(base, { limiter, isNoisy = isDecryptNoise } = {}) {
  const gate =
    (method) =>
    (...args) => {
      if (limiter && isNoisy(args[0], args[1]) && !limiter.allow()) return;
      base[method](...args);
    };
  return {
    get level() {
      return base.level;
    },
    set level(value) {
      base.level = value;
    },
    child(bindings) {
      return wrapBaileysLogger(base.child(bindings), { limiter, isNoisy });
    },
    trace: gate('trace'),
    debug: gate('debug'),
    info: gate('info'),
    warn: gate('warn'),
    error: gate('error'),
    fatal: gate('fatal'),
  };
}
