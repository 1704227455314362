/**
 * docker/prune-node-modules.cjs, the slimming step of the images' deps stage, run as the Dockerfiles
 * run it (with npm on PATH) on a small npm workspace project it can damage: what the workspace needs
 * stays and loads, the rest goes.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/test-models';

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, 'docker', 'prune-node-modules.cjs');
/** npm ls plus node start-up, twice over on a loaded machine. */
const PRUNE_TIMEOUT_MS = 60_000;

let root: string;

async function put(file: string, text = ''): Promise<void> {
  await mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await writeFile(path.join(root, file), text);
}

const manifest = (name: string, extra: object = {}) => JSON.stringify({ name, version: '1.0.0', ...extra });

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fer-prune-'));
  await put('package.json', JSON.stringify({ name: 'fixture', private: true, workspaces: ['app', 'other'] }));
  await put(
    'app/package.json',
    manifest('app', {
      dependencies: { kept: '1.0.0', '@tensorflow/tfjs': '1.0.0', '@vladmandic/face-api': '1.0.0' },
    }),
  );
  await put('other/package.json', manifest('other', { dependencies: { elsewhere: '1.0.0' } }));
  await mkdir(path.join(root, 'node_modules'), { recursive: true });
  await symlink('../app', path.join(root, 'node_modules', 'app'));
  await symlink('../other', path.join(root, 'node_modules', 'other'));
  await put('node_modules/kept/package.json', manifest('kept', { main: 'index.js' }));
  await put('node_modules/kept/index.js', "module.exports = require('./lib/doc/text.js');");
  await put('node_modules/kept/lib/doc/text.js', "module.exports = 'kept';");
  for (const file of [
    'index.js.map',
    'README.md',
    'LICENSE',
    'LICENSE.md',
    'index.d.ts',
    'test/a.js',
    'docs/a.html',
  ]) {
    await put(`node_modules/kept/${file}`);
  }
  await put(
    'node_modules/@tensorflow/tfjs/package.json',
    manifest('@tensorflow/tfjs', { main: 'dist/tf.node.js' }),
  );
  await put('node_modules/@tensorflow/tfjs/dist/tf.node.js', 'module.exports = {};');
  for (const file of [
    'dist/tf.min.js',
    'dist/tf.es2017.js',
    'dist/index.js',
    'dist/ops/add.js',
    'dist/backend.wasm',
  ]) {
    await put(`node_modules/@tensorflow/tfjs/${file}`);
  }
  await put(
    'node_modules/@vladmandic/face-api/package.json',
    manifest('@vladmandic/face-api', { main: 'dist/face-api.node.js' }),
  );
  for (const file of [
    'dist/face-api.node.js',
    'dist/face-api.node-wasm.js',
    'dist/face-api.esm.js',
    'model/tiny_face_detector_model.bin',
    'model/ssd_mobilenetv1_model-weights_manifest.json',
    'model/face_recognition_model.bin',
  ]) {
    await put(`node_modules/@vladmandic/face-api/${file}`);
  }
  await put('node_modules/elsewhere/package.json', manifest('elsewhere'));
  await run(process.execPath, [SCRIPT, '--workspace', 'app', '--require', 'kept,@tensorflow/tfjs'], {
    cwd: root,
    timeout: PRUNE_TIMEOUT_MS,
  });
}, PRUNE_TIMEOUT_MS);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const exists = (file: string) => existsSync(path.join(root, 'node_modules', file));

it("removes packages only another workspace needs, and that workspace's link", () => {
  expect(exists('elsewhere')).toBe(false);
  expect(exists('other')).toBe(false);
  expect(existsSync(path.join(root, 'other', 'package.json'))).toBe(true);
  expect(exists('app')).toBe(true);
});

it('drops maps, declarations, Markdown, tests and docs, keeping code and licences', () => {
  expect(
    ['kept/index.js', 'kept/lib/doc/text.js', 'kept/LICENSE', 'kept/LICENSE.md'].filter(exists),
  ).toHaveLength(4);
  expect(
    ['kept/index.js.map', 'kept/README.md', 'kept/index.d.ts', 'kept/test', 'kept/docs'].filter(exists),
  ).toEqual([]);
});

it("keeps only the main bundle and the wasm files of TF.js's dist/", () => {
  expect(exists('@tensorflow/tfjs/dist/tf.node.js')).toBe(true);
  expect(exists('@tensorflow/tfjs/dist/backend.wasm')).toBe(true);
  for (const file of ['tf.min.js', 'tf.es2017.js', 'index.js', 'ops']) {
    expect(exists(`@tensorflow/tfjs/dist/${file}`)).toBe(false);
  }
});

it("keeps face-api's node bundles and the weights of the two detectors the service runs", () => {
  const kept = [
    'dist/face-api.node.js',
    'dist/face-api.node-wasm.js',
    'model/tiny_face_detector_model.bin',
    'model/ssd_mobilenetv1_model-weights_manifest.json',
  ];
  expect(kept.filter((f) => exists(`@vladmandic/face-api/${f}`))).toEqual(kept);
  expect(exists('@vladmandic/face-api/dist/face-api.esm.js')).toBe(false);
  expect(exists('@vladmandic/face-api/model/face_recognition_model.bin')).toBe(false);
});

it('fails the build when a required module no longer loads', async () => {
  await expect(
    run(process.execPath, [SCRIPT, '--workspace', 'app', '--require', 'elsewhere'], {
      cwd: root,
      timeout: PRUNE_TIMEOUT_MS,
    }),
  ).rejects.toMatchObject({
    stderr: expect.stringMatching(/prune-node-modules: Cannot find module 'elsewhere'/),
  });
});
