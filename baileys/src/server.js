/**
 * The HTTP API (node:http, JSON, bearer token) over a SessionManager.
 *
 *   GET    /health                      no token: process up, sessions by state
 *   POST   /sessions/{id}               start or resume            → session
 *   GET    /sessions/{id}                                          → session
 *   DELETE /sessions/{id}               log out, wipe auth state   → session
 *   POST   /sessions/{id}/messages      {to, text, idempotency_key} → {message_id, to, duplicate}
 *   POST   /sessions/{id}/lookup        {phones: [...]}            → [{phone, exists, jid, lid}]
 *   POST   /sessions/{id}/presence      {to, state}                → {to, state}
 *
 * Errors are `{error: code, reason}`. `X-Request-Id` is taken from the caller (or
 * made up), echoed in the response and written on every log line of the request.
 */

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { BadRequestError, PayloadTooLargeError, SidecarError } from './errors.js';
import { EventSink } from './events.js';
import { createLogger, requestContext } from './log.js';
import { SessionManager } from './session-manager.js';
import { SESSION_ID } from './stores/codec.js';

export const DEFAULT_BODY_LIMIT = 64 * 1024;
export const MAX_TEXT_LENGTH = 4096;
export const MAX_LOOKUP_PHONES = 50;
/** The chat states a reminder sender shows: "typing…" and its end. */
export const PRESENCE_STATES = Object.freeze(['composing', 'paused']);
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new PayloadTooLargeError(limit));
      return;
    }
    const chunks = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        chunks.length = 0;
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!settled) {
        settled = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
  });
}

async function readJson(req, limit, { optional = false } = {}) {
  const raw = await readBody(req, limit);
  if (raw.length === 0) {
    if (optional) return {};
    throw new BadRequestError('the request needs a JSON body', 'invalid_json');
  }
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BadRequestError(`the body is not valid JSON: ${err.message}`, 'invalid_json');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('the body must be a JSON object');
  }
  return body;
}

function stringField(body, name, { max, required = true } = {}) {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new BadRequestError(`"${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadRequestError(`"${name}" must be a non-empty string`);
  }
  if (max && value.length > max) throw new BadRequestError(`"${name}" is longer than ${max} characters`);
  return value;
}

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

function tokenDigest(token) {
  return createHash('sha256').update(String(token), 'utf8').digest();
}

/**
 * @param {{
 *   socketFactory?: Function, store: object, token: string,
 *   events?: EventSink, logger?: import('pino').Logger, manager?: SessionManager,
 *   bodyLimit?: number, sessionOptions?: object,
 *   extraRoutes?: (ctx: {method: string, path: string, readJson: () => Promise<object>}) => Promise<{status: number, body: any} | null>,
 *   pruneIntervalMs?: number,
 * }} options
 */
export function createServer({
  socketFactory,
  store,
  token,
  events,
  logger = createLogger({ level: 'silent' }),
  manager,
  bodyLimit = DEFAULT_BODY_LIMIT,
  sessionOptions,
  extraRoutes,
  pruneIntervalMs = 60 * 60 * 1000,
}) {
  if (!token) throw new TypeError('createServer needs a token');
  events ??= new EventSink({ logger });
  manager ??= new SessionManager({ store, socketFactory, events, logger, sessionOptions });
  const expected = tokenDigest(token);
  const startedAt = Date.now();
  let pruneTimer = null;

  const authorized = (req) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return Boolean(match) && timingSafeEqual(tokenDigest(match[1]), expected);
  };

  const sessionJson = (session) => session.toJSON();

  async function route(req, res) {
    const url = new URL(req.url ?? '/', 'http://sidecar.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/health') {
      if (method !== 'GET') return { status: 405, body: { error: 'method_not_allowed', reason: 'use GET' } };
      return {
        status: 200,
        body: {
          status: 'ok',
          uptime_s: Math.round((Date.now() - startedAt) / 1000),
          sessions: manager.stats(),
          events: { pending: events.pending, ...events.stats },
        },
      };
    }

    if (!authorized(req)) {
      return {
        status: 401,
        body: { error: 'unauthorized', reason: 'missing or wrong bearer token (Authorization: Bearer <SIDECAR_TOKEN>)' },
        headers: { 'www-authenticate': 'Bearer' },
      };
    }

    const json = (options) => readJson(req, bodyLimit, options);

    if (extraRoutes) {
      const handled = await extraRoutes({ method, path, readJson: json, manager });
      if (handled) return handled;
    }

    const match = /^\/sessions\/([^/]+)(?:\/(messages|lookup|presence))?\/?$/.exec(path);
    if (!match) return { status: 404, body: { error: 'not_found', reason: `no route ${method} ${path}` } };
    let id;
    try {
      id = decodeURIComponent(match[1]);
    } catch {
      id = '';
    }
    if (!SESSION_ID.test(id)) {
      throw new BadRequestError('the session id must be 1-64 characters of A-Z a-z 0-9 _ -', 'invalid_session_id');
    }
    const action = match[2] ?? null;
    const allowed = action ? ['POST'] : ['GET', 'POST', 'DELETE'];
    if (!allowed.includes(method)) {
      return {
        status: 405,
        body: { error: 'method_not_allowed', reason: `use ${allowed.join(' or ')}` },
        headers: { allow: allowed.join(', ') },
      };
    }

    if (!action) {
      if (method === 'GET') return { status: 200, body: sessionJson(manager.get(id)) };
      if (method === 'DELETE') return { status: 200, body: sessionJson(await manager.remove(id)) };
      await json({ optional: true });
      const { session, created } = await manager.start(id);
      return { status: created ? 201 : 200, body: sessionJson(session) };
    }

    if (action === 'messages') {
      const body = await json();
      const to = stringField(body, 'to', { max: 128 });
      const text = stringField(body, 'text', { max: MAX_TEXT_LENGTH });
      const idempotencyKey = stringField(body, 'idempotency_key', { max: 200 });
      const result = await manager.get(id).send({ to, text, idempotencyKey });
      return { status: 200, body: result };
    }

    if (action === 'presence') {
      const body = await json();
      const to = stringField(body, 'to', { max: 128 });
      const { state } = body;
      if (!PRESENCE_STATES.includes(state)) {
        throw new BadRequestError(`"state" must be ${PRESENCE_STATES.map((s) => `"${s}"`).join(' or ')}`);
      }
      return { status: 200, body: await manager.get(id).presence({ to, state }) };
    }

    const body = await json();
    const { phones } = body;
    if (!Array.isArray(phones) || phones.length === 0) {
      throw new BadRequestError('"phones" must be a non-empty array of phone numbers');
    }
    if (phones.length > MAX_LOOKUP_PHONES) {
      throw new BadRequestError(`at most ${MAX_LOOKUP_PHONES} phones per lookup`);
    }
    if (!phones.every((p) => typeof p === 'string')) throw new BadRequestError('"phones" must hold strings');
    return { status: 200, body: await manager.get(id).lookup(phones) };
  }

  async function handle(req, res) {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    await requestContext.run({ requestId }, async () => {
      const started = process.hrtime.bigint();
      let status = 500;
      try {
        const result = await route(req, res);
        status = result.status;
        sendJson(res, result.status, result.body, result.headers);
      } catch (err) {
        const known = err instanceof SidecarError && err.status < 500;
        status = err instanceof SidecarError ? err.status : 500;
        if (!known) logger.error({ err }, 'request failed');
        const headers = {};
        if (err instanceof PayloadTooLargeError) {
          headers.connection = 'close';
          req.resume(); // discard the rest of the body
        }
        if (!res.headersSent) {
          sendJson(
            res,
            status,
            {
              error: err instanceof SidecarError ? err.code : 'internal_error',
              reason: err instanceof SidecarError ? err.message : 'unexpected error; see the sidecar log',
            },
            headers,
          );
        } else {
          res.destroy();
        }
      } finally {
        logger.info(
          {
            method: req.method,
            path: req.url?.split('?')[0],
            status,
            ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          },
          'request',
        );
      }
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => logger.error({ err }, 'request handler crashed'));
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  const app = {
    server,
    manager,
    events,
    store,
    logger,
    url: null,
    /** Listen on host:port (port 0 picks a free one). */
    listen(port = 3000, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          app.url = `http://${shownHost}:${address.port}`;
          resolve({ host: address.address, port: address.port, url: app.url });
        });
      });
    },
    /**
     * Prune old idempotency records (now and hourly) and, unless `sessions` is false,
     * resume every stored session linked to a phone.
     */
    async resume({ sessions = true } = {}) {
      const prune = () =>
        Promise.resolve(store?.pruneIdempotency?.())
          .then((n) => n && logger.info({ removed: n }, 'old idempotency records pruned'))
          .catch((err) => logger.warn({ err }, 'pruning idempotency records failed'));
      await prune();
      if (!pruneTimer && pruneIntervalMs > 0) {
        pruneTimer = setInterval(prune, pruneIntervalMs);
        pruneTimer.unref();
      }
      return sessions ? manager.resumeAll() : [];
    },
    /** Stop listening, close every session (no logout), deliver what events we can. */
    async close({ eventsTimeoutMs = 2000 } = {}) {
      if (pruneTimer) clearInterval(pruneTimer);
      pruneTimer = null;
      const closed = server.listening ? new Promise((r) => server.close(() => r())) : Promise.resolve();
      server.closeIdleConnections?.();
      await manager.close();
      await events.close({ timeoutMs: eventsTimeoutMs });
      setTimeout(() => server.closeAllConnections?.(), 1000).unref();
      await closed;
    },
  };
  return app;
}
