/**
 * The process entry point of `npm start`: reads the configuration (stopping at once with the names
 * of bad variables), builds the app with the threaded runtime host (runtime-host/: each model version's
 * runtime in its own worker thread), listens, and on
 * SIGTERM/SIGINT drains (readiness 503, no new work, queued and running batches finish, new
 * connections refused, open ones closed once their clients got a last answer) within
 * DRAIN_TIMEOUT_MS before exiting.
 */
import closeWithGrace from 'close-with-grace';
import { buildApp, REDACTED_HEADERS } from './app';
import { ConfigError, loadConfig } from './config';
import { CONNECTION_GRACE_MS, stopAccepting } from './connection-drain';
import { listenFailureMessage } from './listen-failure';
import { createThreadedRuntime } from './runtime-host/threaded-runtime';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const app = await buildApp({
    config,
    runtimeFactory: createThreadedRuntime,
    logger: { level: config.logLevel, redact: REDACTED_HEADERS },
  });

  closeWithGrace({ delay: config.drainTimeoutMs, logger: app.log }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an uncaught error');
    else app.log.info({ signal }, 'draining before exit');
    app.lifecycle.startDraining();
    // Queued batches leave now instead of waiting for fuller ones.
    void app.batcher.drain();
    // New connections are refused; clients on open ones get `Connection: close` answers and leave.
    const connections = await stopAccepting(
      app.server,
      Math.min(CONNECTION_GRACE_MS, config.drainTimeoutMs / 2),
    );
    app.log.info({ connections }, 'stopped accepting connections');
    await app.close();
  });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const message = listenFailureMessage(error, config);
    if (message === null) throw error;
    // One line, no stack: the fix is a variable; the models loading and the workers go with the process.
    console.error(message);
    process.exit(1);
  }
  app.log.info(
    { registry: config.registry.dir, runtime: config.runtime.kind, detector: config.detector.kind },
    'inference service started',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
