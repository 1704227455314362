/**
 * The `metadata.json` of a model version (DESIGN §3) as a zod schema. Training writes it through
 * `publish`, serving reads it through `listModels`/`resolve`; both validate with this one schema.
 */
import { z } from 'zod';
import { CLASSES } from '../labels';
import { preprocessSpecSchema } from '../preprocess';

export const METADATA_SCHEMA_VERSION = 1;

const classMetricsSchema = z.object({
  precision: z.number().min(0).max(1),
  recall: z.number().min(0).max(1),
  f1: z.number().min(0).max(1),
  support: z.number().int().min(0),
});

/**
 * How far the probabilities can be taken at their word (training/src/metrics/calibration.ts):
 * 15-bin expected calibration error of the top probability, mean negative log-likelihood, Brier
 * score, and the classwise ECE of each class.
 */
export const calibrationMetricsSchema = z.object({
  ece: z.number().min(0).max(1),
  nll: z.number().min(0),
  brier: z.number().min(0).max(2),
  per_class_ece: z.record(z.string(), z.number().min(0).max(1)),
  /** Equal-width confidence bins the ECEs were computed with. */
  bins: z.number().int().positive(),
});

export const metricsSchema = z.object({
  accuracy: z.number().min(0).max(1),
  macro_f1: z.number().min(0).max(1),
  per_class: z.record(z.string(), classMetricsSchema),
  /** confusion_matrix[true][predicted], rows and columns in `classes` order. */
  confusion_matrix: z.array(z.array(z.number().int().min(0))),
  samples: z.number().int().min(0),
  /** Which split the numbers come from, e.g. "Testing" (the dataset's held-out test split). */
  split: z.string(),
  /** Absent on versions published before calibration was measured. */
  calibration: calibrationMetricsSchema.optional(),
});

export const trainingInfoSchema = z.object({
  dataset: z.object({
    format: z.string(),
    fingerprint: z.string(),
    counts: z.record(z.string(), z.record(z.string(), z.number().int().min(0))),
  }),
  epochs: z.number().int().min(0),
  best_epoch: z.number().int().min(0).optional(),
  batch_size: z.number().int().positive(),
  optimizer: z.record(z.string(), z.unknown()),
  lr_schedule: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  backend: z.string(),
  duration_s: z.number().min(0),
  pretrained: z.string().nullable(),
  command: z.string().optional(),
});

export const architectureSchema = z.object({
  family: z.enum(['resnet', 'densenet']),
  /** Builder configuration name, e.g. "resnet152" or "resnet-reduced". */
  config: z.string(),
  parameters: z.number().int().positive(),
});

export const artifactSchema = z.object({
  /** Path relative to the version folder, with forward slashes. */
  path: z
    .string()
    .min(1)
    .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\\'), {
      message: 'artifact paths are relative and stay inside the version folder',
    }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
});

const splitScoreSchema = z.object({
  accuracy: z.number().min(0).max(1),
  macro_f1: z.number().min(0).max(1),
});

/** How an ensemble version (`npm run ensemble`) was put together from published members. */
export const ensembleInfoSchema = z.object({
  /** The output is the mean of the members' probabilities (soft voting). */
  combine: z.literal('mean-probabilities'),
  /** Whether every member also sees the mirror image of the input (test-time flip, in the model). */
  mirror: z.boolean(),
  /** The validation images every member held out, and the ensemble's score on them. */
  validation: splitScoreSchema.extend({
    split_seed: z.number().int(),
    fraction: z.number().gt(0).lt(1),
    samples: z.number().int().min(0),
  }),
  members: z
    .array(
      z.object({
        name: z.string(),
        version: z.number().int().positive(),
        config: z.string(),
        seed: z.number().int(),
        validation: splitScoreSchema,
        test: splitScoreSchema,
        command: z.string().nullable(),
      }),
    )
    .min(2),
  /**
   * The dataset every member was trained on (they must share it), which the ensemble is scored
   * on: what its test metrics can be compared by, as a trained version's `training.dataset`.
   * Optional: ensembles published before it was recorded lack it.
   */
  dataset: z.object({ format: z.string(), fingerprint: z.string() }).optional(),
});

const calibrationScoreSchema = calibrationMetricsSchema.pick({ ece: true, nll: true, brier: true });

/**
 * The temperature baked into a calibrated version's graph (training/src/calibration): logits
 * divided by it before the softmax, or for a probability-averaging ensemble the mean
 * probabilities raised to 1/T and renormalised. Fitted on validation images only.
 */
export const calibrationInfoSchema = z.object({
  method: z.literal('temperature'),
  /** 'logits': a LogitTemperature layer before the softmax; 'probabilities': ProbabilityTemperature after the output. */
  applied_to: z.enum(['logits', 'probabilities']),
  /** One temperature for every class, or one per class (kept only when it won on validation). */
  temperature: z.union([z.number().positive(), z.record(z.string(), z.number().positive())]),
  /**
   * A per-class bias added after the division, softmax(s / T + bias), kept only when it won on
   * validation; absent for temperature scaling alone.
   */
  bias: z.record(z.string(), z.number()).optional(),
  /** The images it was fitted on: a validation split of the training data, never the test split. */
  fitted_on: z.object({
    split: z.literal('validation'),
    split_seed: z.number().int(),
    fraction: z.number().gt(0).lt(1),
    samples: z.number().int().min(0),
  }),
  /** Calibration on those validation images without and with the temperature. */
  validation: z.object({ before: calibrationScoreSchema, after: calibrationScoreSchema }),
  /**
   * One temperature, one per class, and one temperature plus a per-class bias, each fold of the
   * validation images scored by the calibration fitted on the other folds: mean NLL (the lowest is
   * kept) and the 15-bin ECE of the pooled out-of-fold probabilities (an honest estimate of the
   * calibration on unseen images). The bias candidate is absent on versions calibrated before it.
   */
  selection: z.object({
    folds: z.number().int().min(2),
    scalar_nll: z.number().min(0),
    per_class_nll: z.number().min(0),
    scalar_bias_nll: z.number().min(0).optional(),
    scalar_ece: z.number().min(0).max(1),
    per_class_ece: z.number().min(0).max(1),
    scalar_bias_ece: z.number().min(0).max(1).optional(),
  }),
  /** The published version it was made from (`npm run calibrate`); absent when calibrated at publish. */
  source: z.object({ name: z.string(), version: z.number().int().positive() }).optional(),
  /** The `npm run calibrate` command that made it; absent when calibrated at publish. */
  command: z.string().optional(),
});

export const modelMetadataSchema = z.object({
  schema_version: z.literal(METADATA_SCHEMA_VERSION),
  name: z.string(),
  version: z.number().int().positive(),
  created_at: z.string().datetime(),
  classes: z
    .array(z.string())
    .refine((c) => c.length === CLASSES.length && c.every((n, i) => n === CLASSES[i]), {
      message: `classes must be exactly ${CLASSES.join(', ')} in this order`,
    }),
  preprocessing: preprocessSpecSchema,
  architecture: architectureSchema,
  metrics: metricsSchema.nullable(),
  training: trainingInfoSchema.nullable(),
  export: z
    .object({ onnx_opset: z.number().int().positive(), source: z.string(), float16: z.boolean().optional() })
    .nullable(),
  artifacts: z.array(artifactSchema),
  code_revision: z.string().nullable(),
  /** Only on ensembles; `training` is then null and each member's training is its own version's. */
  ensemble: ensembleInfoSchema.optional(),
  /** Only on calibrated versions. */
  calibration: calibrationInfoSchema.optional(),
});

export type ModelMetadata = z.infer<typeof modelMetadataSchema>;
export type ModelMetrics = z.infer<typeof metricsSchema>;
export type TrainingInfo = z.infer<typeof trainingInfoSchema>;
export type Artifact = z.infer<typeof artifactSchema>;
export type EnsembleInfo = z.infer<typeof ensembleInfoSchema>;
export type CalibrationMetrics = z.infer<typeof calibrationMetricsSchema>;
export type CalibrationInfo = z.infer<typeof calibrationInfoSchema>;

/** What a publisher provides; `publish` fills in name, version, created_at and artifacts. */
export type MetadataDraft = Omit<
  ModelMetadata,
  'name' | 'version' | 'created_at' | 'artifacts' | 'schema_version'
> & {
  created_at?: string;
};

/**
 * The draft of a published version's metadata (its created_at kept): what publishing its files
 * again, as another version or model, takes.
 *
 * @example await publish({ root, name, sourceDir: version.dir, metadata: draftOf(version.metadata) });
 */
export function draftOf(metadata: ModelMetadata): MetadataDraft {
  const {
    name: _name,
    version: _version,
    artifacts: _artifacts,
    schema_version: _schema,
    ...draft
  } = metadata;
  return draft;
}
