/** The sidecar's settings, read from the environment once at start and validated. */

import { parseStateKey } from './crypto.js';
import { ConfigError } from './errors.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env, name, fallback, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}, problems) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be a whole number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return value;
}

/**
 * @param {Record<string, string | undefined>} env
 * @throws {ConfigError} listing every problem at once
 */
export function loadConfig(env = process.env) {
  const problems = [];
  const fake = ['1', 'true', 'yes'].includes(String(env.SIDECAR_FAKE ?? '').toLowerCase());

  const token = env.SIDECAR_TOKEN ?? '';
  if (!token) problems.push('SIDECAR_TOKEN is missing: set a long random string (e.g. openssl rand -hex 32), the same one the Python side uses');
  else if (/\s/.test(token)) problems.push('SIDECAR_TOKEN must not contain spaces');

  const store = (env.SIDECAR_STORE || 'file').toLowerCase();
  if (!['file', 'postgres'].includes(store)) problems.push(`SIDECAR_STORE must be "file" or "postgres", got ${JSON.stringify(env.SIDECAR_STORE)}`);
  const databaseUrl = env.DATABASE_URL || null;
  if (store === 'postgres' && !databaseUrl) problems.push('SIDECAR_STORE=postgres needs DATABASE_URL (postgres://user:pass@host:5432/db)');

  let stateKey = null;
  if (env.SIDECAR_STATE_KEY) {
    try {
      stateKey = parseStateKey(env.SIDECAR_STATE_KEY);
    } catch (err) {
      problems.push(err.problems?.[0] ?? err.message);
    }
  } else if (!fake) {
    problems.push('SIDECAR_STATE_KEY is missing: the auth state is encrypted with it (generate one with: openssl rand -hex 32)');
  }

  const eventsUrl = env.SIDECAR_EVENTS_URL || null;
  const eventsSecret = env.SIDECAR_EVENTS_SECRET || null;
  if (eventsUrl) {
    try {
      const u = new URL(eventsUrl);
      if (!['http:', 'https:'].includes(u.protocol)) throw new Error('not http');
    } catch {
      problems.push(`SIDECAR_EVENTS_URL must be an http(s) URL, got ${JSON.stringify(eventsUrl)}`);
    }
    if (!eventsSecret) problems.push('SIDECAR_EVENTS_URL is set but SIDECAR_EVENTS_SECRET is missing: events are signed with it');
  }

  const logLevel = (env.LOG_LEVEL || 'info').toLowerCase();
  if (!LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  const baileysLogLevel = (env.BAILEYS_LOG_LEVEL || 'warn').toLowerCase();
  if (!LEVELS.includes(baileysLogLevel)) problems.push(`BAILEYS_LOG_LEVEL must be one of ${LEVELS.join(', ')}`);

  const resume = !['0', 'false', 'no'].includes(String(env.SIDECAR_RESUME ?? '1').toLowerCase());

  const config = {
    token,
    resume,
    host: env.SIDECAR_HOST || '127.0.0.1',
    port: integer(env, 'SIDECAR_PORT', 3000, { min: 0, max: 65535 }, problems),
    store,
    stateDir: env.SIDECAR_STATE_DIR || './state',
    stateKey,
    databaseUrl,
    pgTable: env.SIDECAR_PG_TABLE || 'sidecar_state',
    eventsUrl,
    eventsSecret,
    logLevel,
    baileysLogLevel,
    fake,
    maxQrCodes: integer(env, 'SIDECAR_MAX_QR', 5, { min: 1, max: 100 }, problems),
    idempotencyTtlMs: integer(env, 'SIDECAR_IDEMPOTENCY_TTL_HOURS', 72, { min: 24, max: 24 * 365 }, problems) * 3_600_000,
  };
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(config.pgTable)) problems.push('SIDECAR_PG_TABLE must be a plain SQL identifier');
  if (problems.length) throw new ConfigError(problems);
  return config;
}
