/**
 * POST /predict (DESIGN §4): query validation and model resolution before the body is read, the
 * body's parsers (a raw image, or a multipart upload read by read-multipart.ts), the request's
 * deadline and client-disconnect signal, then the pipeline in predict/predict-image.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config';
import { ClientGoneError, InvalidRequestError, RequestTimeoutError, VersionUnloadedError } from '../errors';
import type { LoadedVersion } from '../models/model-manager';
import { SUPPORTED_MEDIA_TYPES } from '../predict/media-type';
import { predictImage } from '../predict/predict-image';
import { parsePredictQuery, predictQuerySchema } from '../predict/query';
import { readMultipartImage } from '../predict/read-multipart';
import { readUpload } from '../predict/read-upload';
import { predictResponseSchema } from './response-schemas';

declare module 'fastify' {
  interface FastifyRequest {
    /** The version a /predict query resolved to, set before the body is read. */
    predictTarget: { version: LoadedVersion } | null;
  }
}

export interface PredictRouteOptions {
  config: Config;
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export default async function predictRoutes(
  app: FastifyInstance,
  { config }: PredictRouteOptions,
): Promise<void> {
  const { limits } = config;
  // The only bodies the service reads (plugins/app/request-bodies.ts removed every other parser).
  app.addContentTypeParser(
    [...SUPPORTED_MEDIA_TYPES],
    { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes },
    (_request, body, done) => done(null, body),
  );
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    const headers = { ...request.headers, 'content-type': request.headers['content-type'] ?? '' };
    readMultipartImage(payload, headers, limits.maxBodyBytes).then(
      (image) => done(null, image),
      (error: Error) => done(error, undefined),
    );
  });
  app.decorateRequest('predictTarget', null);

  // Before the body is read: a bad query or an unknown model costs no upload. Fastify validates
  // the querystring schema only after the body is parsed, so this hook checks the same zod
  // schema (and words its refusal the same way) first.
  const resolveTarget = async (request: FastifyRequest) => {
    const parsed = parsePredictQuery(request.query);
    if (!parsed.ok) throw new InvalidRequestError(parsed.message);
    const version = app.models.get(parsed.query.model, parsed.query.version);
    request.modelLabel = `${version.name}@${version.version}`;
    request.predictTarget = { version };
  };

  app.withTypeProvider<ZodTypeProvider>().post(
    '/predict',
    {
      bodyLimit: limits.maxBodyBytes,
      preParsing: resolveTarget,
      schema: { querystring: predictQuerySchema, response: { 200: predictResponseSchema } },
    },
    async (request, reply) => {
      if (request.predictTarget === null) throw new Error('the predict target was not resolved');
      const query = request.query;
      let version = request.predictTarget.version;

      // One signal for everything the request started: its deadline, a client that went away, or
      // the request finishing (which drops any work still queued for it).
      const controller = new AbortController();
      const remainingMs = limits.requestTimeoutMs - reply.elapsedTime;
      const deadline = performance.now() + remainingMs;
      const timer = setTimeout(
        () => controller.abort(new RequestTimeoutError(limits.requestTimeoutMs)),
        Math.max(0, remainingMs),
      );
      const onClose = () => {
        if (!reply.raw.writableFinished) controller.abort(new ClientGoneError());
      };
      reply.raw.on('close', onClose);
      try {
        const bytes = readUpload(request);
        const options = {
          faces: query.faces,
          crop: query.crop,
          align: query.align,
          maxFaces: Math.min(query.max_faces ?? limits.maxFaces, limits.maxFaces),
          maxPixels: limits.maxImagePixels,
          deadline,
        };
        const predict = () =>
          unlessAborted(predictImage(app, version, bytes, options, controller.signal), controller.signal);
        let result;
        try {
          result = await predict();
        } catch (error) {
          if (!(error instanceof VersionUnloadedError)) throw error;
          // The version went away (removed, replaced, found broken) while the image was being
          // prepared: ask again which version the request means (the new default, or a 404 for a
          // pinned version that is gone) and prepare it for that one.
          version = app.models.get(query.model, query.version);
          request.modelLabel = `${version.name}@${version.version}`;
          result = await predict();
        }
        app.metrics.facesPerImage.observe({ model: version.name }, result.faces.length);
        if (result.timings.detect > 0) app.metrics.detectionTime.observe(result.timings.detect / 1000);
        return {
          model: { name: version.name, version: version.version },
          image: result.image,
          faces: result.faces,
          timings_ms: { ...result.timings, total: Math.round(reply.elapsedTime * 100) / 100 },
        };
      } finally {
        clearTimeout(timer);
        reply.raw.off('close', onClose);
        if (!controller.signal.aborted) controller.abort(new Error('the request has finished'));
      }
    },
  );
}
