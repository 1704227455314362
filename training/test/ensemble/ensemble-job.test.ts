// `npm run ensemble` end to end on members trained here: what it publishes, what its scores are
// computed from, and the members it refuses to combine.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CLASSES,
  IncompatibleVersionError,
  ONNX_FILE,
  readVersion,
  REPORT_DIR,
  type ModelMetadata,
} from '@fer/shared';
import { selectTrainingBackend } from '../../src/backend';
import { logProbabilities, scaledProbabilities } from '../../src/calibration/temperature-fit';
import { runEnsemble } from '../../src/ensemble/ensemble-job';
import { parseEnsembleArgs } from '../../src/ensemble/ensemble-options';
import { EnsembleMemberError, memberSplit } from '../../src/ensemble/member-split';
import { silentLogger } from '../../src/train/logger';
import { trainOne, type JobContext } from '../../src/train/train-job';
import { parseTrainArgs } from '../../src/train/train-options';
import { writeKaggleDataset } from '../helpers/synthetic-dataset';

const TIMEOUT_MS = 120_000;
let tmp: string;
let data: string;
let paths: { cwd: string; repoRoot: string };

const context: JobContext = {
  log: silentLogger(),
  progress: { epoch: () => ({ update: () => undefined, stop: () => undefined }) },
  print: () => undefined,
  backend: 'test',
  command: null,
  codeRevision: null,
};

/** Trains a tiny member into `registry`; every member gets its own seed. */
async function trainMember(name: string, seed: number, extra: string[] = []): Promise<void> {
  const argv = [
    '--backbone=resnet-tiny',
    `--data=${data}`,
    '--input-size=32',
    '--epochs=2',
    '--batch-size=16',
    `--seed=${seed}`,
    `--name=${name}`,
    `--registry=${path.join(tmp, 'members')}`,
    `--runs-dir=${path.join(tmp, 'runs')}`,
    ...extra,
  ];
  // The command is recorded like the CLI records it, so the ensemble can list how members were made.
  await trainOne(parseTrainArgs(argv, paths), 'resnet-tiny', {
    ...context,
    command: `npm run train -- ${argv.join(' ')}`,
  });
}

async function metadataOf(registry: string, name: string, version = 1): Promise<ModelMetadata> {
  const entry = await readVersion(registry, name, version);
  if (entry.status !== 'ready') throw new Error(`${name}@${version} is ${entry.status}`);
  return entry.metadata;
}

beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-ensemble-'));
  data = path.join(tmp, 'data');
  paths = { cwd: tmp, repoRoot: tmp };
  await writeKaggleDataset(data, { train: 12, test: 4, seed: 5, format: 'png' });
  await trainMember('a', 1, ['--split-seed=9']);
  await trainMember('b', 2, ['--split-seed=9']);
  await trainMember('c', 3, ['--split-seed=9']);
  await trainMember('other-split', 4);
  await trainMember('wider-input', 5, ['--split-seed=9', '--input-size=40']);
}, TIMEOUT_MS * 2);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const ensembleArgs = (members: string[], name = 'abc') => [
  ...members.flatMap((m) => ['--member', `members/${m}`]),
  '--data',
  'data',
  '--name',
  name,
  '--registry',
  'models',
];

/** `npm run ensemble -- ARGV` from the test folder, without a recorded command. */
const ensembleWith = (argv: string[], command: string | null = null) =>
  runEnsemble(parseEnsembleArgs(argv, paths), { log: silentLogger(), command, codeRevision: null });

/** The metadata's temperature in class order (one value, or one per class). */
function temperatureOf(metadata: ModelMetadata): number[] {
  const t = metadata.calibration!.temperature;
  return typeof t === 'number' ? [t] : CLASSES.map((c) => t[c]);
}

/** The mean of the views raised to 1/T and renormalised: what a calibrated ensemble answers. */
function calibratedMean(views: Float32Array[], temperature: number[]): Float64Array {
  const mean = views[0].map((_, i) => views.reduce((sum, v) => sum + v[i], 0) / views.length);
  return scaledProbabilities(logProbabilities(mean), temperature, CLASSES.length);
}

/** Probabilities of a model file for `n` NHWC 32-px images. */
async function runOnnx(file: string, input: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, [n, 32, 32, 3]) });
    return out.probabilities.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('runEnsemble', () => {
  it(
    'publishes a version whose ONNX output is the calibrated mean of the members, with their scores',
    async () => {
      const result = await ensembleWith(ensembleArgs(['a@1', 'b@1', 'c@1']), 'npm run ensemble -- ...');
      expect(result.version).toBe(1);
      const metadata = await metadataOf(path.join(tmp, 'models'), 'abc');
      expect(metadata.training).toBeNull();
      expect(metadata.architecture.config).toBe('ensemble(resnet-tiny, resnet-tiny, resnet-tiny)');
      const memberMetadata = await Promise.all(
        ['a', 'b', 'c'].map((m) => metadataOf(path.join(tmp, 'members'), m)),
      );
      expect(metadata.architecture.parameters).toBe(
        memberMetadata.reduce((sum, m) => sum + m.architecture.parameters, 0),
      );
      expect(metadata.preprocessing).toEqual(memberMetadata[0].preprocessing);
      const info = metadata.ensemble!;
      expect(info.combine).toBe('mean-probabilities');
      expect(info.mirror).toBe(false);
      expect(info.members.map((m) => [m.name, m.version, m.seed])).toEqual([
        ['a', 1, 1],
        ['b', 1, 2],
        ['c', 1, 3],
      ]);
      expect(info.members[0].command).toMatch(/--split-seed=9/);
      // 12 training images per class, 10% held out per class (at least one): 6 validation images.
      expect(info.validation).toMatchObject({ split_seed: 9, fraction: 0.1, samples: 6 });
      // The members' dataset, so the ensemble's test metrics compare with trained versions'.
      expect(info.dataset).toEqual({
        format: memberMetadata[0].training!.dataset.format,
        fingerprint: memberMetadata[0].training!.dataset.fingerprint,
      });
      expect(metadata.metrics?.samples).toBe(24);
      expect(result.test.accuracy).toBe(metadata.metrics?.accuracy);

      // The temperature was fitted on the validation images the members share, never on the test split.
      expect(metadata.calibration).toMatchObject({
        method: 'temperature',
        applied_to: 'probabilities',
        fitted_on: { split: 'validation', split_seed: 9, fraction: 0.1, samples: 6 },
      });
      expect(metadata.metrics?.calibration?.bins).toBe(15);

      // Run the published file and the members' files on the same batch: the mean of three, at T.
      const batch = new Float32Array(5 * 32 * 32 * 3).map((_, i) => Math.sin(i * 0.37) * 2);
      const dir = path.join(tmp, 'models', 'abc', '1');
      const outputs = await Promise.all(
        ['a', 'b', 'c'].map((m) => runOnnx(path.join(tmp, 'members', m, '1', ONNX_FILE), batch, 5)),
      );
      const got = await runOnnx(path.join(dir, ONNX_FILE), batch, 5);
      const expected = calibratedMean(outputs, temperatureOf(metadata));
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));

      const report = await readFile(path.join(dir, REPORT_DIR, 'report.md'), 'utf8');
      expect(report).toContain('# abc: ensemble of 3 models'); // written before publish assigns the number
      expect(report).toMatch(/\| a@1 \| [\d.]+% \|/);
      expect(report).toContain('![confusion matrix](confusion.svg)');
      expect(report).toContain('![reliability diagram](reliability.svg)');
    },
    TIMEOUT_MS,
  );

  it(
    'with --mirror, averages each member over the image and its mirror image',
    async () => {
      const argv = [...ensembleArgs(['a@1', 'b@1'], 'ab-mirror'), '--mirror'];
      const result = await ensembleWith(argv);
      const metadata = await metadataOf(path.join(tmp, 'models'), 'ab-mirror');
      expect(metadata.ensemble?.mirror).toBe(true);
      expect(result.test.samples).toBe(24);
      // Row-mirrored inputs for the members: input element (n, y, x, c) <- (n, y, 31 - x, c).
      const batch = new Float32Array(2 * 32 * 32 * 3).map((_, i) => Math.cos(i * 0.11) * 2);
      const mirrored = batch.map((_, i) => {
        const x = Math.floor(i / 3) % 32;
        return batch[i + (31 - 2 * x) * 3];
      });
      const member = (m: string) => path.join(tmp, 'members', m, '1', ONNX_FILE);
      const views = [
        await runOnnx(member('a'), batch, 2),
        await runOnnx(member('a'), mirrored, 2),
        await runOnnx(member('b'), batch, 2),
        await runOnnx(member('b'), mirrored, 2),
      ];
      const got = await runOnnx(path.join(tmp, 'models', 'ab-mirror', '1', ONNX_FILE), batch, 2);
      const expected = calibratedMean(views, temperatureOf(metadata));
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    },
    TIMEOUT_MS,
  );

  it(
    'with --no-calibrate, publishes the plain mean',
    async () => {
      await ensembleWith([...ensembleArgs(['a@1', 'b@1'], 'ab-plain'), '--no-calibrate']);
      const metadata = await metadataOf(path.join(tmp, 'models'), 'ab-plain');
      expect(metadata.calibration).toBeUndefined();
      const batch = new Float32Array(2 * 32 * 32 * 3).map((_, i) => Math.sin(i * 0.21));
      const member = (m: string) => runOnnx(path.join(tmp, 'members', m, '1', ONNX_FILE), batch, 2);
      const [a, b] = [await member('a'), await member('b')];
      const got = await runOnnx(path.join(tmp, 'models', 'ab-plain', '1', ONNX_FILE), batch, 2);
      got.forEach((v, i) => expect(v).toBeCloseTo((a[i] + b[i]) / 2, 5));
    },
    TIMEOUT_MS,
  );

  it('refuses members that held out different validation images', async () => {
    await expect(ensembleWith(ensembleArgs(['a@1', 'other-split@1'], 'x'))).rejects.toThrow(
      /other-split@1 held out validation split \(seed 4, fraction 0.1\), a@1 held out \(seed 9/,
    );
  });

  it('refuses members that read their input differently', async () => {
    await expect(ensembleWith(ensembleArgs(['a@1', 'wider-input@1'], 'x'))).rejects.toThrow(
      /wider-input@1 preprocesses differently from a@1/,
    );
  });

  it('refuses another dataset than the members were trained on', async () => {
    const other = path.join(tmp, 'other-data');
    await writeKaggleDataset(other, { train: 12, test: 4, seed: 6, format: 'png' });
    const argv = ensembleArgs(['a@1', 'b@1'], 'x').map((a) => (a === 'data' ? 'other-data' : a));
    await expect(ensembleWith(argv)).rejects.toThrow(/is not the dataset the members were trained on/);
  });

  it('refuses, before any work, to publish as a name whose versions read other input, suggesting --name', async () => {
    // wider-input is 40 px; a, b read 32 px. A dataset that is not there: the refusal comes first.
    const argv = ensembleArgs(['a@1', 'b@1'], 'wider-input').map((a) =>
      a === 'models' ? 'members' : a === 'data' ? 'no-such-data' : a,
    );
    const refused = ensembleWith(argv);
    await expect(refused).rejects.toBeInstanceOf(IncompatibleVersionError);
    await expect(refused).rejects.toThrow(/input_size: 40 -> 32.*--name wider-input-32px/);
    expect((await readdir(path.join(tmp, 'members', 'wider-input'))).sort()).toEqual(['1', 'config.pbtxt']);
  });
});

describe('memberSplit', () => {
  it('reads the recorded split seed, else the command, else the seed', async () => {
    const a = await metadataOf(path.join(tmp, 'members'), 'a');
    expect(memberSplit(a)).toEqual({ seed: 9, fraction: 0.1 });
    const optimizer = { ...a.training!.optimizer, validation_split_seed: undefined };
    const older = { ...a, training: { ...a.training!, optimizer } };
    expect(memberSplit(older)).toEqual({ seed: 9, fraction: 0.1 }); // from --split-seed=9 in the command
    expect(memberSplit({ ...older, training: { ...older.training, command: undefined } })).toEqual({
      seed: 1,
      fraction: 0.1,
    });
    expect(() => memberSplit({ ...a, training: null })).toThrow(EnsembleMemberError);
    const subset = { ...a, training: { ...a.training!, optimizer: { ...optimizer, max_train_images: 50 } } };
    expect(() => memberSplit(subset)).toThrow(/trained on a subset/);
  });
});

describe('parseEnsembleArgs', () => {
  it('reads members as REGISTRY/NAME[@VERSION] and needs two of them, data and a name', () => {
    const options = parseEnsembleArgs(ensembleArgs(['a@1', 'b']), paths);
    expect(options.members).toEqual([
      { registry: path.join(tmp, 'members'), name: 'a', version: 1 },
      { registry: path.join(tmp, 'members'), name: 'b' },
    ]);
    expect(options.registry).toBe(path.join(tmp, 'models'));
    // Without --registry: the scratch registry, never the models/ that the service serves.
    const scratch = parseEnsembleArgs(ensembleArgs(['a@1', 'b']).slice(0, -2), paths);
    expect(scratch.registry).toBe(path.join(tmp, 'artifacts', 'registry'));
    expect(() => parseEnsembleArgs(ensembleArgs(['a@1']), paths)).toThrow(/two or more --member/);
    expect(() => parseEnsembleArgs(['--member', 'a@1', '--member', 'b@1'], paths)).toThrow(
      /expected REGISTRY\/NAME/,
    );
    expect(() => parseEnsembleArgs(ensembleArgs(['a@1', 'b@x']), paths)).toThrow(/positive integer/);
    expect(() => parseEnsembleArgs([...ensembleArgs(['a', 'b']), '--batch-size', '0'], paths)).toThrow(
      /--batch-size/,
    );
  });
});
