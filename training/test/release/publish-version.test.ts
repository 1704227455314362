import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CLASSES,
  defaultPreprocessSpec,
  NUM_CLASSES,
  readVersion,
  REPORT_DIR,
  type CalibrationInfo,
  type MetadataDraft,
} from '@fer/shared';
import { buildBackbone } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';
import { probabilityMetrics } from '../../src/metrics/probability-metrics';
import { publishVersion, versionMetadata, type VersionBasics } from '../../src/release/publish-version';
import { stageVersion, withStagingFolder } from '../../src/release/stage-version';
import { silentLogger } from '../../src/train/logger';
import { noisePixelSet } from '../helpers/synthetic-dataset';

const TIMEOUT_MS = 60_000;
const SIZE = 32;
const spec = defaultPreprocessSpec(SIZE);
const metrics = probabilityMetrics(
  Float32Array.from({ length: 12 * NUM_CLASSES }, (_, i) => (i % 7) / 21 + 0.01),
  Int32Array.from({ length: 12 }, (_, i) => i % NUM_CLASSES),
  CLASSES,
  'Testing',
);
const temperature: CalibrationInfo = {
  method: 'temperature',
  applied_to: 'logits',
  temperature: 1.5,
  fitted_on: { split: 'validation', split_seed: 9, fraction: 0.1, samples: 12 },
  validation: { before: { ece: 0.2, nll: 1.5, brier: 0.8 }, after: { ece: 0.1, nll: 1.4, brier: 0.79 } },
  selection: { folds: 5, scalar_nll: 1.4, per_class_nll: 1.41, scalar_ece: 0.1, per_class_ece: 0.11 },
};

function basics(calibration: CalibrationInfo | null): VersionBasics {
  return {
    createdAt: '2025-01-02T03:04:05.000Z',
    spec,
    metrics,
    staged: { export: { onnx_opset: 17, source: '@tensorflow/tfjs-layers@4.22.0' } },
    codeRevision: 'abc123',
    calibration,
  };
}

describe('versionMetadata', () => {
  it("lays the basics over the job's own fields: a calibrated version keeps only its source's network facts", () => {
    const source: MetadataDraft = {
      created_at: '2020-01-01T00:00:00.000Z',
      classes: [...CLASSES],
      preprocessing: spec,
      architecture: { family: 'resnet', config: 'resnet-tiny', parameters: 1234 },
      metrics: null,
      training: null,
      export: { onnx_opset: 13, source: 'old' },
      code_revision: 'old',
    };
    const draft = versionMetadata(basics(temperature), source);
    expect(draft).toEqual({
      ...source,
      created_at: '2025-01-02T03:04:05.000Z',
      metrics,
      export: { onnx_opset: 17, source: '@tensorflow/tfjs-layers@4.22.0' },
      code_revision: 'abc123',
      calibration: temperature,
    });
  });

  it('records no calibration block for a version published without a temperature', () => {
    const draft = versionMetadata(basics(null), {
      architecture: { family: 'resnet', config: 'resnet-tiny', parameters: 1 },
      training: null,
    });
    expect(draft).not.toHaveProperty('calibration');
    expect(draft.classes).toEqual([...CLASSES]);
    expect(draft.preprocessing).toBe(spec);
  });
});

describe('publishVersion', () => {
  let registry: string;
  beforeAll(async () => {
    await selectTrainingBackend();
    registry = await mkdtemp(path.join(os.tmpdir(), 'fer-publish-version-'));
  });
  afterAll(async () => {
    await rm(registry, { recursive: true, force: true });
  });

  it(
    'publishes the staged folder with report.md and metrics.json, and the staged export in the metadata',
    async () => {
      const model = buildBackbone('resnet-tiny', { inputSize: SIZE, numClasses: NUM_CLASSES, seed: 3 });
      try {
        const published = await withStagingFolder('fer-publish-test-', async (dir) => {
          const staged = await stageVersion(
            model,
            dir,
            { set: noisePixelSet(8, SIZE), spec },
            silentLogger(),
          );
          const metadata = versionMetadata(
            { ...basics(null), staged },
            { architecture: { family: 'resnet', config: 'resnet-tiny', parameters: 1 }, training: null },
          );
          return publishVersion({
            registry,
            name: 'staged',
            staged,
            report: '# staged\n',
            metrics,
            metadata,
          });
        });
        expect(published.version).toBe(1);
        const entry = await readVersion(registry, 'staged', 1);
        if (entry.status !== 'ready') throw new Error(`published version is ${entry.status}`);
        expect(entry.metadata.export?.onnx_opset).toBe(17);
        expect(entry.metadata.artifacts.map((a) => a.path)).toEqual(
          expect.arrayContaining([
            'model.onnx',
            'report/report.md',
            'report/metrics.json',
            'tfjs/model.json',
          ]),
        );
        expect(await readFile(path.join(entry.dir, REPORT_DIR, 'report.md'), 'utf8')).toBe('# staged\n');
        expect(JSON.parse(await readFile(path.join(entry.dir, REPORT_DIR, 'metrics.json'), 'utf8'))).toEqual(
          metrics,
        );
      } finally {
        model.dispose();
      }
    },
    TIMEOUT_MS,
  );
});
