/**
 * `buildApp(options)`: the whole service as a Fastify instance, without listening. server.ts (the
 * process) and the tests (over a temporary registry) both build it here, so the tests run exactly
 * the wiring the process runs (with the same threaded runtime host, unless a test injects faults). Plugins go in a fixed order: external @fastify/* plugins, then our
 * services (error handler, metrics, auth, request bodies, lifecycle, model manager, batcher, decode gate, detector),
 * then the routes.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { clientErrorHandler, frameworkErrors, requireHostHeader } from './client-errors';
import type { Config, TrustProxy } from './config';
import { registerCors } from './plugins/external/cors';
import { registerHelmet } from './plugins/external/helmet';
import { registerRateLimit } from './plugins/external/rate-limit';
import { registerSwagger } from './plugins/external/swagger';
import authPlugin from './plugins/app/auth';
import batcherPlugin from './plugins/app/batcher';
import decodeGatePlugin from './plugins/app/decode-gate';
import detectorPlugin from './plugins/app/detector';
import errorHandlerPlugin from './plugins/app/error-handler';
import lifecyclePlugin from './plugins/app/lifecycle';
import metricsPlugin from './plugins/app/metrics';
import modelsPlugin from './plugins/app/models';
import requestBodiesPlugin from './plugins/app/request-bodies';
import zodSchemasPlugin from './plugins/app/zod-schemas';
import healthRoutes from './routes/health';
import metricsRoutes from './routes/metrics';
import modelRoutes from './routes/models';
import predictRoutes from './routes/predict';
import reportRoutes from './routes/reports';
import studyRoutes from './routes/study';
import webRoutes from './routes/web';
import type { RuntimeFactory } from './runtime/types';
import { ApiKeys } from './security/api-keys';
import { serializeRequest } from './security/redact-url';

export interface AppOptions {
  config: Config;
  /**
   * Makes the InferenceRuntime of each loaded version: server.ts passes runtime-host's
   * `createThreadedRuntime` (each version in its own worker thread).
   */
  runtimeFactory: RuntimeFactory;
  /** Fastify logger options; false (the default) logs nothing, as tests want. */
  logger?: FastifyServerOptions['logger'];
}

/** TRUST_PROXY as Fastify takes it: a hop count is a function of the hop's index. */
function trustProxyOption(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/** Logger options whose request serializer keeps credentials sent in the URL out of the log. */
function withRedactedUrls(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false || logger === undefined) return false;
  const options = logger === true ? {} : logger;
  return { ...options, serializers: { req: serializeRequest, ...options.serializers } };
}

/** How often Node looks for timed-out requests: a tenth of the headers timeout, within [100 ms, 1 s]. */
function timeoutCheckInterval(headersTimeoutMs: number): number {
  return Math.min(1000, Math.max(100, Math.round(headersTimeoutMs / 10)));
}

/** Incoming x-request-id values we trust enough to put in logs; anything else gets a fresh id. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Headers that must never reach a log line, under any top-level key: Fastify logs `req.headers`
 * in some messages, and any plugin logging a request's headers is covered too.
 */
export const REDACTED_HEADERS = ['*.headers["x-api-key"]', '*.headers.authorization', '*.headers.cookie'];

/**
 * Builds the service. Call `ready()` (or `listen()`) to start loading models and the detector.
 *
 * @example const app = await buildApp({ config: loadConfig(process.env), runtimeFactory: createThreadedRuntime });
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    logger: withRedactedUrls(options.logger ?? false),
    bodyLimit: config.limits.maxBodyBytes,
    // Whose X-Forwarded-For gives request.ip (rate limits and logs): nobody unless configured.
    trustProxy: trustProxyOption(config.http.trustProxy),
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // Slow clients: the headers and the whole request must arrive in time (408, client-errors.ts),
    // a silent connection is closed, and so is an idle keep-alive one.
    requestTimeout: config.http.uploadTimeoutMs,
    connectionTimeout: config.http.idleTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      // Node checks both timeouts on this period (30 s by default, which would let a 10 s timeout last 40 s).
      connectionsCheckingInterval: timeoutCheckInterval(config.http.headersTimeoutMs),
      // Missing Host: our hook answers with the API's error body instead of Node's empty 400.
      requireHostHeader: false,
    },
    // Our lifecycle plugin answers during shutdown with the API's own 503 body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Requests refused before routing still get the API's error body (client-errors.ts).
    clientErrorHandler,
    frameworkErrors,
  });

  // Every error, from any hook or route, is answered through one mapping (http-errors.ts).
  await app.register(errorHandlerPlugin);
  // Routes declare their querystring and response schemas with zod.
  await app.register(zodSchemasPlugin);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', requireHostHeader);

  const apiKeys = new ApiKeys(config.security.apiKeys);

  // External plugins.
  await registerHelmet(app);
  await registerCors(app, config.security.corsOrigins);
  await registerRateLimit(
    app,
    { max: config.security.rateLimitMax, windowMs: config.security.rateLimitWindowMs },
    apiKeys,
  );
  await registerSwagger(app);

  // Our services.
  await app.register(metricsPlugin);
  await app.register(authPlugin, { keys: apiKeys });
  await app.register(requestBodiesPlugin, { maxBodyBytes: config.limits.maxBodyBytes });
  await app.register(lifecyclePlugin);
  await app.register(modelsPlugin, { config, runtimeFactory: options.runtimeFactory });
  await app.register(batcherPlugin, { policy: config.batching });
  await app.register(decodeGatePlugin, { config });
  await app.register(detectorPlugin, { config });

  // Routes.
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(modelRoutes);
  await app.register(predictRoutes, { config });
  await app.register(reportRoutes, { config });
  await app.register(webRoutes);
  await app.register(studyRoutes, { dir: config.studyDir });

  return app;
}
