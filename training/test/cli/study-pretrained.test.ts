/**
 * The full study's own command with transfer learning, as a user runs it: `npm run train --
 * --backbone resnet152,densenet161` with one torchvision-layout ImageNet checkpoint per backbone
 * (full-size, random values, written by training/scripts/write_imagenet_checkpoints.py with
 * Debian's python3-torch into a temporary folder) on a tiny dataset publishes both; the files
 * swapped, it fails before any training with a short message and short log lines.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readVersion } from '@fer/shared';
import { writeKaggleDataset } from '../helpers/synthetic-dataset';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../../..');
const PYTHON = '/usr/bin/python3';
const HAVE_TORCH = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
/** torch writes ~350 MB of random values in seconds; slow disks and busy cores get a margin. */
const CHECKPOINT_TIMEOUT_MS = 120_000;
/** Both full-size networks: build, import, one epoch on a few images, ONNX export, publish, compare. */
const STUDY_TIMEOUT_MS = 900_000;
const REFUSAL_TIMEOUT_MS = 120_000;
/** A refusal is a few lines; before, one log line held all ~2,000 problems (170,000 characters). */
const MAX_STDERR_CHARS = 3_000;
const MAX_LOG_LINE_CHARS = 4_000;

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function train(args: string[], timeout: number): Promise<Output> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'train', '--', ...args], {
      cwd: REPO_ROOT,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let tmp: string;
let files: { resnet152: string; densenet161: string };

const describeWithTorch = HAVE_TORCH ? describe : describe.skip;
if (!HAVE_TORCH)
  console.log(
    `skipped the full-size --pretrained study: ${PYTHON} has no torch (apt-get install python3-torch)`,
  );

describeWithTorch('npm run train -- --backbone resnet152,densenet161 --pretrained NAME=FILE ...', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-full-study-'));
    const script = path.join(REPO_ROOT, 'training/scripts/write_imagenet_checkpoints.py');
    const { stdout } = await run(PYTHON, [script, path.join(tmp, 'weights')], {
      timeout: CHECKPOINT_TIMEOUT_MS,
    });
    files = JSON.parse(stdout);
    await writeKaggleDataset(path.join(tmp, 'data'), { train: 6, test: 2, seed: 4, format: 'png' });
  }, CHECKPOINT_TIMEOUT_MS);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const common = (name: string) => [
    '--backbone',
    'resnet152,densenet161',
    '--data',
    path.join(tmp, 'data'),
    '--input-size',
    '32',
    '--epochs',
    '1',
    '--batch-size',
    '18',
    '--registry',
    path.join(tmp, `${name}-models`),
    '--runs-dir',
    path.join(tmp, `${name}-runs`),
    '--comparison-dir',
    path.join(tmp, `${name}-comparison`),
    '--no-progress',
  ];

  test(
    'the files swapped: it stops before any training, in a few lines',
    async () => {
      const output = await train(
        [
          ...common('swapped'),
          '--pretrained',
          `resnet152=${files.densenet161}`,
          '--pretrained',
          `densenet161=${files.resnet152}`,
        ],
        REFUSAL_TIMEOUT_MS,
      );
      expect(output.code).toBe(1);
      expect(output.stderr).toMatch(/nothing was trained, 2 of 2 backbones cannot use their weights/);
      expect(output.stderr).toMatch(
        /resnet152: densenet161-8d451a50\.pth does not fit it: \d{3,} problem\(s\)/,
      );
      expect(output.stderr.length).toBeLessThan(MAX_STDERR_CHARS);
      for (const line of output.stdout.split('\n')) expect(line.length).toBeLessThan(MAX_LOG_LINE_CHARS);
      expect(await readdir(path.join(tmp, 'swapped-runs'))).toEqual(['weight-checks']);
    },
    REFUSAL_TIMEOUT_MS,
  );

  test(
    'one file per backbone: both import theirs, train, export and publish, and the comparison is written',
    async () => {
      const started = Date.now();
      const output = await train(
        [
          ...common('study'),
          '--pretrained',
          `resnet152=${files.resnet152}`,
          '--pretrained',
          `densenet161=${files.densenet161}`,
          '--log-level',
          'warn',
        ],
        STUDY_TIMEOUT_MS,
      );
      console.log(`full-size study on ${6 * 6} images: ${((Date.now() - started) / 1000).toFixed(0)} s`);
      expect(output.stderr).toMatch(/published resnet152 v1: .*\npublished densenet161 v1: /);
      expect(output.code).toBe(0);
      for (const [name, file] of Object.entries(files)) {
        const entry = await readVersion(path.join(tmp, 'study-models'), name, 1);
        expect(entry.status === 'ready' && entry.metadata.training?.pretrained).toMatch(
          new RegExp(`^${path.basename(file).replace('.', '\\.')} \\(sha256:[0-9a-f]{16}\\)$`),
        );
      }
      expect(await readdir(path.join(tmp, 'study-comparison'))).toContain('comparison.md');
    },
    STUDY_TIMEOUT_MS,
  );
});
