import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { defaultPreprocessSpec, NUM_CLASSES, ONNX_FILE, REPORT_DIR, TFJS_DIR } from '@fer/shared';
import { buildBackbone } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';
import { ONNX_PARITY_TOLERANCE, PARITY_IMAGES } from '../../src/release/parity';
import { stageVersion, withStagingFolder } from '../../src/release/stage-version';
import { silentLogger } from '../../src/train/logger';
import { noisePixelSet } from '../helpers/synthetic-dataset';

const TIMEOUT_MS = 60_000;
const SIZE = 32;

beforeAll(async () => {
  await selectTrainingBackend();
});

describe('withStagingFolder', () => {
  it('lends an empty folder that publish can copy as it is (mode 755), and removes it afterwards', async () => {
    let seen = '';
    await withStagingFolder('fer-stage-test-', async (dir) => {
      seen = dir;
      expect(await readdir(dir)).toEqual([]);
      expect((await stat(dir)).mode & 0o777).toBe(0o755);
    });
    await expect(stat(seen)).rejects.toThrow(/ENOENT/);
  });

  it('removes it when the work fails too', async () => {
    let seen = '';
    await expect(
      withStagingFolder('fer-stage-test-', async (dir) => {
        seen = dir;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(stat(seen)).rejects.toThrow(/ENOENT/);
  });
});

describe('stageVersion', () => {
  it(
    'writes tfjs/, model.onnx and an empty report/, and measures what every report shows',
    async () => {
      const model = buildBackbone('resnet-tiny', { inputSize: SIZE, numClasses: NUM_CLASSES, seed: 3 });
      const spec = defaultPreprocessSpec(SIZE);
      try {
        await withStagingFolder('fer-stage-test-', async (dir) => {
          const staged = await stageVersion(
            model,
            dir,
            { set: noisePixelSet(PARITY_IMAGES + 6, SIZE), spec },
            silentLogger(),
          );
          expect((await readdir(dir)).sort()).toEqual([ONNX_FILE, REPORT_DIR, TFJS_DIR].sort());
          expect(await readdir(staged.reportDir)).toEqual([]);
          expect(staged.onnxFile).toBe(path.join(dir, ONNX_FILE));
          expect(staged.onnx.bytes).toBe((await stat(staged.onnxFile)).size);
          expect(staged.onnx.opset).toBe(staged.export.onnx_opset);
          expect(staged.onnx.parityMaxDiff).toBeLessThanOrEqual(ONNX_PARITY_TOLERANCE);
          expect(staged.onnx.latencyMsPerImage).toBeGreaterThan(0);
        });
      } finally {
        model.dispose();
      }
    },
    TIMEOUT_MS,
  );
});
