/**
 * GET /models and GET /models/{name}/versions/{version} (DESIGN §4): what the registry holds, what
 * is loaded, the default, each version's test metrics, and a version's full metadata.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ModelMetadata } from '@fer/shared';
import { InvalidRequestError } from '../errors';
import type { VersionView } from '../models/model-manager';
import { modelListSchema, versionDetailSchema } from './response-schemas';

const VERSION_PARAM = /^[1-9][0-9]{0,8}$/;

function summary(view: VersionView, defaultVersion: number | null) {
  const metadata: ModelMetadata | null = view.metadata;
  return {
    version: view.version,
    status: view.status,
    default: view.version === defaultVersion,
    error: view.error,
    created_at: metadata?.created_at ?? null,
    input_size: metadata?.preprocessing.input_size ?? null,
    architecture: metadata?.architecture ?? null,
    metrics: metadata?.metrics
      ? {
          accuracy: metadata.metrics.accuracy,
          macro_f1: metadata.metrics.macro_f1,
          samples: metadata.metrics.samples,
          split: metadata.metrics.split,
        }
      : null,
  };
}

/** Both segments arrive as strings; the version's form is checked with its own message below. */
const versionParams = z.object({ name: z.string(), version: z.string() });

export default async function modelRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/models', { schema: { response: { 200: modelListSchema } } }, async () => {
    const models = app.models.list();
    const { failover } = app.models.defaultStatus();
    return {
      default_model: app.models.defaultModel(),
      failover: failover === null ? null : { configured_model: failover.configured, reason: failover.reason },
      models: models.map((model) => ({
        name: model.name,
        default_version: model.defaultVersion,
        versions: model.versions.map((v) => summary(v, model.defaultVersion)),
      })),
    };
  });

  app.get(
    '/models/:name/versions/:version',
    { schema: { params: versionParams, response: { 200: versionDetailSchema } } },
    async (request) => {
      const { name, version } = request.params;
      if (!VERSION_PARAM.test(version))
        throw new InvalidRequestError(`Invalid version "${version}": a positive integer`);
      const view = app.models.describe(name, Number(version));
      const defaultVersion = app.models.list().find((m) => m.name === name)?.defaultVersion ?? null;
      return { ...summary(view, defaultVersion), name, load_ms: view.loadMs, metadata: view.metadata };
    },
  );
}
