/**
 * The JSON answers of the routes as zod schemas, declared in each route's `schema.response` (the
 * fastify/demo way). The type provider checks at compile time that a handler returns this shape;
 * at run time the serializer (plugins/app/zod-schemas.ts) checks it before sending. openapi.yaml
 * stays the hand-written contract the tests hold every answer to; these mirror its 200 bodies.
 */
import { z } from 'zod';
import { modelMetadataSchema } from '@fer/shared';

const positiveInt = z.number().int().min(1);
const probability = z.number().min(0).max(1);
const point = z.object({ x: z.number(), y: z.number() });

const face = z.object({
  box: z.object({
    left: z.number().int().min(0),
    top: z.number().int().min(0),
    width: positiveInt,
    height: positiveInt,
  }),
  detection_score: probability.nullable(),
  landmarks: z.record(z.string(), point).nullable(),
  label: z.string(),
  probabilities: z.record(z.string(), probability),
});

export const predictResponseSchema = z.object({
  model: z.object({ name: z.string(), version: positiveInt }),
  image: z.object({
    width: positiveInt,
    height: positiveInt,
    format: z.enum(['jpeg', 'png', 'webp']),
  }),
  faces: z.array(face),
  timings_ms: z.object({
    decode: z.number().min(0),
    detect: z.number().min(0),
    preprocess: z.number().min(0),
    queue: z.number().min(0),
    inference: z.number().min(0),
    total: z.number().min(0),
  }),
});

const failover = z.object({ configured_model: z.string(), reason: z.string() }).nullable();

const versionSummary = z.object({
  version: positiveInt,
  status: z.enum(['loading', 'ready', 'failed', 'not_loaded']),
  default: z.boolean(),
  error: z.string().nullable(),
  created_at: z.string().nullable(),
  input_size: positiveInt.nullable(),
  architecture: z
    .object({ family: z.enum(['resnet', 'densenet']), config: z.string(), parameters: positiveInt })
    .nullable(),
  metrics: z
    .object({
      accuracy: probability,
      macro_f1: probability,
      samples: z.number().int().min(0),
      split: z.string(),
    })
    .nullable(),
});

export const modelListSchema = z.object({
  default_model: z.string().nullable(),
  failover,
  models: z.array(
    z.object({
      name: z.string(),
      default_version: positiveInt.nullable(),
      versions: z.array(versionSummary),
    }),
  ),
});

export const versionDetailSchema = versionSummary.extend({
  name: z.string(),
  load_ms: z.number().int().min(0).nullable(),
  metadata: modelMetadataSchema.nullable(),
});

export const livenessSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.literal('ready'),
  models_ready: z.number().int().min(0),
  detector: z.string(),
  default_model: z.object({ name: z.string(), version: positiveInt }),
  failover,
});
