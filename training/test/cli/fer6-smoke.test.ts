/**
 * A short training run on a stratified subset of the real dataset, when it is present beside the
 * checkout (../shared/datasets/fer6); skipped with a message otherwise.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readVersion } from '@fer/shared';
import { selectTrainingBackend } from '../../src/backend';
import { silentLogger } from '../../src/train/logger';
import { NO_PROGRESS } from '../../src/train/progress';
import { trainOne } from '../../src/train/train-job';
import { parseTrainArgs } from '../../src/train/train-options';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const FER6 = path.resolve(REPO_ROOT, '../shared/datasets/fer6');
const TIMEOUT_MS = 120_000;
const present = existsSync(FER6);

if (!present) console.warn(`skipping the fer6 smoke run: ${FER6} is absent`);

(present ? describe : describe.skip)('a smoke run on fer6', () => {
  let tmp: string;

  beforeAll(async () => {
    await selectTrainingBackend();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-fer6-'));
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it(
    'reads the real layout and publishes a model trained on a small subset',
    async () => {
      const options = parseTrainArgs(
        [
          '--backbone=resnet-tiny',
          `--data=${FER6}`,
          '--input-size=32',
          '--epochs=1',
          '--batch-size=32',
          '--max-train-images=300',
          '--max-test-images=120',
          `--registry=${path.join(tmp, 'models')}`,
          `--runs-dir=${path.join(tmp, 'runs')}`,
        ],
        { cwd: REPO_ROOT, repoRoot: REPO_ROOT },
      );
      const printed: string[] = [];
      const result = await trainOne(options, 'resnet-tiny', {
        log: silentLogger(),
        progress: NO_PROGRESS,
        print: (text) => printed.push(text),
        backend: 'test',
        command: null,
        codeRevision: null,
      });
      expect(printed[0]).toMatch(/Surprise\s+\d+\s+\d+/); // the "Suprise" folder, under its class name
      expect(result.metrics.samples).toBe(120);
      const entry = await readVersion(path.join(tmp, 'models'), 'resnet-tiny', result.version);
      expect(entry.status).toBe('ready');
      if (entry.status === 'ready') {
        const counts = entry.metadata.training!.dataset.counts;
        expect(Object.keys(counts).sort()).toEqual(['Testing', 'Training']);
        expect(counts.Training.Surprise).toBeGreaterThan(0);
      }
    },
    TIMEOUT_MS,
  );
});
