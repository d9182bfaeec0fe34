/**
 * Entry point: read the environment, open the state store, serve the API, resume the
 * linked sessions; SIGTERM / SIGINT close everything (no logout) and exit.
 */

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBaileysSocketFactory } from './baileys-socket.js';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { EventSink } from './events.js';
import { createLogger } from './log.js';
import { createServer } from './server.js';
import { FileStore, MemoryStore, PostgresStore } from './stores/index.js';
import { fakeControlRoutes } from './testing/fake-routes.js';
import { FakeWhatsApp } from './testing/fake-socket.js';

function openStore(config, logger) {
  const options = { key: config.stateKey, idempotencyTtlMs: config.idempotencyTtlMs };
  if (config.fake && !config.stateKey) {
    logger.warn('SIDECAR_FAKE=1 without SIDECAR_STATE_KEY: state is kept in memory only');
    return new MemoryStore(options);
  }
  if (config.store === 'postgres') {
    return new PostgresStore({ ...options, connectionString: config.databaseUrl, table: config.pgTable });
  }
  return new FileStore({ ...options, dir: resolve(config.stateDir) });
}

/** Start the sidecar for a loaded config; returns the app and a `stop()`. */
export async function startSidecar(config, { logger = createLogger({ level: config.logLevel }) } = {}) {
  const store = openStore(config, logger);
  await store.open();
  const fake = config.fake ? new FakeWhatsApp({ existsByDefault: true, autoAck: true }) : null;
  const events = new EventSink({ url: config.eventsUrl, secret: config.eventsSecret, logger });
  const app = createServer({
    socketFactory: fake ? fake.socketFactory : createBaileysSocketFactory(),
    store,
    token: config.token,
    events,
    logger,
    sessionOptions: { maxQrCodes: config.maxQrCodes, baileysLogLevel: config.baileysLogLevel },
    extraRoutes: fake ? fakeControlRoutes(fake) : undefined,
  });
  const address = await app.listen(config.port, config.host);
  logger.info(
    { ...address, store: store.constructor.name, fake: config.fake, events: Boolean(config.eventsUrl) },
    'sidecar listening',
  );
  await app.resume({ sessions: config.resume });
  let stopping = null;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      await store.close();
    })());
  return { app, store, fake, stop };
}

async function run() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception: exiting');
    process.exit(1);
  });
  let sidecar;
  try {
    sidecar = await startSidecar(config, { logger });
  } catch (err) {
    logger.fatal({ err }, `sidecar did not start: ${err.message}`);
    process.exit(1);
  }
  let signals = 0;
  const shutdown = (signal) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    sidecar.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

const invokedDirectly = (() => {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedDirectly) await run();
