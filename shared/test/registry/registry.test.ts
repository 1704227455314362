import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  assertCompatibleVersion,
  defaultPreprocessSpec,
  draftOf,
  IncompatibleVersionError,
  InvalidModelVersionError,
  isValidModelName,
  listModels,
  ModelNotFoundError,
  publish,
  readVersion,
  resolve,
  verifyArtifacts,
} from '../../src';
import { metadataDraft } from './draft';

const run = promisify(execFile);
const RACE_TIMEOUT_MS = 60_000;
const TSX = path.resolve(__dirname, '../../../node_modules/.bin/tsx');

let tmp: string;
let root: string;
let source: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-registry-'));
  root = path.join(tmp, 'models');
  source = path.join(tmp, 'source');
  await mkdir(path.join(source, 'report'), { recursive: true });
  await writeFile(path.join(source, 'model.onnx'), 'onnx bytes');
  await writeFile(path.join(source, 'report', 'report.md'), '# report');
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('publish, resolve, list', () => {
  it('publishes numbered versions with checksums and resolves the highest by default', async () => {
    const first = await publish({ root, name: 'resnet152', sourceDir: source, metadata: metadataDraft() });
    const second = await publish({ root, name: 'resnet152', sourceDir: source, metadata: metadataDraft() });
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(second.metadata.artifacts.map((a) => a.path)).toEqual(['model.onnx', 'report/report.md']);
    expect(await verifyArtifacts(second.dir, second.metadata.artifacts)).toEqual([]);

    expect((await resolve(root, 'resnet152')).version).toBe(2);
    expect((await resolve(root, 'resnet152', 1)).version).toBe(1);

    const models = await listModels(root);
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ name: 'resnet152', latest: 2 });
    expect(models[0].versions.map((v) => [v.version, v.status])).toEqual([
      [1, 'ready'],
      [2, 'ready'],
    ]);
    // No staging or claim folders are left behind; Triton's config sits beside the versions.
    expect((await readdir(path.join(root, 'resnet152'))).sort()).toEqual(['1', '2', 'config.pbtxt']);
  });

  it('publishes a published version again from its draft: same metadata but name, version and artifacts', async () => {
    const first = await publish({ root, name: 'resnet152', sourceDir: source, metadata: metadataDraft() });
    const again = await publish({
      root,
      name: 'copy',
      sourceDir: first.dir,
      metadata: draftOf(first.metadata),
    });
    const { name, version, artifacts, schema_version: _schema, ...rest } = again.metadata;
    expect([name, version]).toEqual(['copy', 1]);
    expect(rest).toEqual(draftOf(first.metadata));
    expect(artifacts.map((a) => a.path)).toEqual(['model.onnx', 'report/report.md']);
  });

  it('treats a missing registry as empty and unknown models as not found', async () => {
    expect(await listModels(path.join(tmp, 'nowhere'))).toEqual([]);
    await expect(resolve(root, 'densenet161')).rejects.toBeInstanceOf(ModelNotFoundError);
    await publish({ root, name: 'densenet161', sourceDir: source, metadata: metadataDraft() });
    await expect(resolve(root, 'densenet161', 7)).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  it('refuses names that could leave the registry', async () => {
    for (const name of ['..', '../x', 'a/b', '', 'UPPER', '.hidden'])
      expect(isValidModelName(name)).toBe(false);
    await expect(resolve(root, '../etc')).rejects.toBeInstanceOf(ModelNotFoundError);
    await expect(
      publish({ root, name: '../evil', sourceDir: source, metadata: metadataDraft() }),
    ).rejects.toThrow(/invalid model name/);
  });

  it('refuses to publish without model.onnx and leaves nothing behind', async () => {
    await rm(path.join(source, 'model.onnx'));
    await expect(publish({ root, name: 'm', sourceDir: source, metadata: metadataDraft() })).rejects.toThrow(
      /model.onnx/,
    );
    expect(await readdir(path.join(root, 'm'))).toEqual([]);
  });

  it('writes a Triton config that describes the model input and output', async () => {
    await publish({ root, name: 'resnet152', sourceDir: source, metadata: metadataDraft() });
    const config = await readFile(path.join(root, 'resnet152', 'config.pbtxt'), 'utf8');
    expect(config).toContain('name: "resnet152"');
    expect(config).toContain('platform: "onnxruntime_onnx"');
    expect(config).toMatch(/name: "input"[\s\S]*dims: \[ 64, 64, 3 \]/);
    expect(config).toMatch(/name: "probabilities"[\s\S]*dims: \[ 6 \]/);
    await publish({ root, name: 'plain', sourceDir: source, metadata: metadataDraft(), triton: false });
    expect(await readdir(path.join(root, 'plain'))).toEqual(['1']);
  });

  it('validates the metadata it writes', async () => {
    const bad = { ...metadataDraft(), classes: ['Happy', 'Sad'] };
    await expect(publish({ root, name: 'm', sourceDir: source, metadata: bad })).rejects.toThrow(/classes/);
    expect(await readdir(path.join(root, 'm'))).toEqual([]);
  });
});

describe('one input per model name', () => {
  const withInput = (inputSize: number) => ({
    ...metadataDraft(),
    preprocessing: defaultPreprocessSpec(inputSize),
  });

  it('refuses a version whose input size differs, suggests --name, and leaves the model as it was', async () => {
    await publish({ root, name: 'resnet-small', sourceDir: source, metadata: withInput(96) });
    const config = await readFile(path.join(root, 'resnet-small', 'config.pbtxt'), 'utf8');
    const refused = publish({ root, name: 'resnet-small', sourceDir: source, metadata: withInput(48) });
    await expect(refused).rejects.toBeInstanceOf(IncompatibleVersionError);
    await expect(refused).rejects.toThrow(/version 1's \(input_size: 96 -> 48\).*--name resnet-small-48px/);
    // No version 2, no claim or staging folder, and Triton's config still describes version 1.
    expect((await readdir(path.join(root, 'resnet-small'))).sort()).toEqual(['1', 'config.pbtxt']);
    expect(await readFile(path.join(root, 'resnet-small', 'config.pbtxt'), 'utf8')).toBe(config);
    // The same files under their own name are fine.
    const own = await publish({
      root,
      name: 'resnet-small-48px',
      sourceDir: source,
      metadata: withInput(48),
    });
    expect(own.version).toBe(1);
  });

  it('refuses any other preprocessing difference too, field by field', async () => {
    await publish({ root, name: 'm', sourceDir: source, metadata: metadataDraft() });
    const margin = { ...metadataDraft().preprocessing, face_margin: 0.25 };
    await expect(
      publish({
        root,
        name: 'm',
        sourceDir: source,
        metadata: { ...metadataDraft(), preprocessing: margin },
      }),
    ).rejects.toThrow(/face_margin: 0.1 -> 0.25.*--name m-2/);
  });

  it('accepts versions that read their input alike, and a new name; skips unreadable versions', async () => {
    await publish({ root, name: 'm', sourceDir: source, metadata: metadataDraft() });
    await expect(assertCompatibleVersion(root, 'm', defaultPreprocessSpec(64))).resolves.toBeUndefined();
    await expect(assertCompatibleVersion(root, 'other', defaultPreprocessSpec(32))).resolves.toBeUndefined();
    await expect(
      assertCompatibleVersion(path.join(tmp, 'none'), 'm', defaultPreprocessSpec(32)),
    ).resolves.toBeUndefined();
    await writeFile(path.join(root, 'm', '1', 'metadata.json'), '{ not json');
    await expect(assertCompatibleVersion(root, 'm', defaultPreprocessSpec(32))).resolves.toBeUndefined();
  });
});

describe('broken versions', () => {
  beforeEach(async () => {
    for (let i = 0; i < 3; i++)
      await publish({ root, name: 'resnet152', sourceDir: source, metadata: metadataDraft() });
  });

  it('reports a corrupt metadata.json without throwing, and falls back to the newest good version', async () => {
    await writeFile(path.join(root, 'resnet152', '3', 'metadata.json'), '{ not json');
    const [model] = await listModels(root);
    expect(model.latest).toBe(2);
    expect(model.versions[2]).toMatchObject({
      status: 'invalid',
      problems: ['metadata.json is not valid JSON'],
    });
    expect((await resolve(root, 'resnet152')).version).toBe(2);
    await expect(resolve(root, 'resnet152', 3)).rejects.toBeInstanceOf(InvalidModelVersionError);
  });

  it('reports schema violations by field', async () => {
    const file = path.join(root, 'resnet152', '2', 'metadata.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    json.preprocessing.input_size = 'big';
    await writeFile(file, JSON.stringify(json));
    const entry = await readVersion(root, 'resnet152', 2);
    expect(entry.status).toBe('invalid');
    expect(entry.status === 'invalid' && entry.problems.join()).toMatch(/preprocessing\.input_size/);
  });

  it('keeps an ensemble block through publish and reports a malformed one by field', async () => {
    const score = { accuracy: 0.6, macro_f1: 0.55 };
    const member = (name: string) => ({
      name,
      version: 1,
      config: 'resnet-test',
      seed: 1,
      validation: score,
      test: score,
      command: null,
    });
    const ensemble = {
      combine: 'mean-probabilities' as const,
      mirror: true,
      validation: { ...score, split_seed: 42, fraction: 0.1, samples: 100 },
      members: [member('a'), member('b')],
    };
    const published = await publish({
      root,
      name: 'pair',
      sourceDir: source,
      metadata: { ...metadataDraft(), ensemble },
    });
    expect(published.metadata.ensemble).toEqual(ensemble);
    const file = path.join(root, 'pair', '1', 'metadata.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    json.ensemble.members = [member('a')];
    await writeFile(file, JSON.stringify(json));
    const entry = await readVersion(root, 'pair', 1);
    expect(entry.status === 'invalid' && entry.problems.join()).toMatch(/ensemble\.members/);
  });

  it('reports a version folder missing its model file', async () => {
    await rm(path.join(root, 'resnet152', '3', 'model.onnx'));
    const entry = await readVersion(root, 'resnet152', 3);
    expect(entry).toMatchObject({ status: 'invalid', problems: ['model.onnx: missing'] });
  });

  it('notices a changed model file with sha256 verification', async () => {
    await writeFile(path.join(root, 'resnet152', '1', 'model.onnx'), 'ONNX BYTES'); // same size
    expect((await readVersion(root, 'resnet152', 1)).status).toBe('ready');
    expect(await readVersion(root, 'resnet152', 1, { verify: 'sha256' })).toMatchObject({
      status: 'invalid',
      problems: ['model.onnx: sha256 mismatch'],
    });
  });

  it('ignores hidden staging folders and stray files', async () => {
    await mkdir(path.join(root, 'resnet152', '.staging-123-abc'));
    await mkdir(path.join(root, 'resnet152', '.claim-9'));
    await writeFile(path.join(root, 'resnet152', 'notes.txt'), 'hello');
    const [model] = await listModels(root);
    expect(model.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    // A crash after claiming 9 means 9 is never handed out; the next version is 10.
    const next = await publish({ root, name: 'resnet152', sourceDir: source, metadata: metadataDraft() });
    expect(next.version).toBe(10);
  });
});

describe('concurrent publishers', () => {
  it(
    'gives processes racing to publish different version numbers',
    async () => {
      const publishers = 6;
      const worker = path.join(__dirname, 'publish-worker.ts');
      const results = await Promise.all(
        Array.from({ length: publishers }, () => run(TSX, [worker, root, 'raced', source])),
      );
      const versions = results.map((r) => Number(r.stdout.trim())).sort((a, b) => a - b);
      expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
      const [model] = await listModels(root, { verify: 'sha256' });
      expect(model.versions.every((v) => v.status === 'ready')).toBe(true);
      expect((await readdir(path.join(root, 'raced'))).sort()).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        'config.pbtxt',
      ]);
    },
    RACE_TIMEOUT_MS,
  );
});
