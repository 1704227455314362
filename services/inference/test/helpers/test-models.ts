/**
 * Real small models for the tests, built once per jest run by the training workspace's
 * `make-model` CLI (a subprocess: the service never imports training). The template registry holds:
 *   - `tiny` v1: resnet-tiny at 32 px, seed 1 (what most tests serve);
 *   - a `tiny` version with seed 2 in a separate folder, published into a test's registry while the
 *     service runs (hot reload), so its answers differ from v1's.
 * Each test copies the template into its own temporary registry, which it may change freely.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { draftOf, METADATA_FILE, publish, type ModelMetadata } from '@fer/shared';
import { makeModel } from '../../tools/make-model';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
/** Environment variable through which global-setup.ts hands the built template to test files. */
export const TEMPLATE_ENV = 'FER_INFERENCE_TEST_MODELS';
/** Set when global-setup.ts built the template, so global-teardown.ts only deletes its own. */
export const OWNED_ENV = 'FER_INFERENCE_TEST_MODELS_OWNED';
export const TEST_MODEL = 'tiny';
export const TEST_INPUT_SIZE = 32;
/** make-model takes a few seconds per model on a busy 2-core machine; this is its ceiling. */
export const MAKE_MODEL_TIMEOUT_MS = 120_000;

export interface TestModels {
  /** Registry with `tiny` v1. */
  registry: string;
  /** Registry holding the seed-2 `tiny` as its version 1, to publish elsewhere during a test. */
  nextVersion: string;
}

async function makeTinyModel(registry: string, name: string, seed: number): Promise<void> {
  const request = { config: 'resnet-tiny', inputSize: TEST_INPUT_SIZE, registry, name, seed };
  await makeModel({ ...request, timeoutMs: MAKE_MODEL_TIMEOUT_MS });
}

/** Builds the template registries (global-setup.ts calls it once per run). */
export async function buildTestModels(): Promise<TestModels> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fer-inference-models-'));
  const models = { registry: path.join(root, 'registry'), nextVersion: path.join(root, 'next-version') };
  await Promise.all([
    makeTinyModel(models.registry, TEST_MODEL, 1),
    makeTinyModel(models.nextVersion, TEST_MODEL, 2),
  ]);
  return models;
}

/** The template built by global-setup.ts (or built now, when a test file runs without it). */
export async function testModels(): Promise<TestModels> {
  const fromEnv = process.env[TEMPLATE_ENV];
  if (fromEnv) return JSON.parse(fromEnv) as TestModels;
  const built = await buildTestModels();
  process.env[TEMPLATE_ENV] = JSON.stringify(built);
  return built;
}

/** A fresh registry (a copy of the template) that the caller owns and deletes with `rm`. */
export async function freshRegistry(): Promise<string> {
  const { registry } = await testModels();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-inference-registry-'));
  await cp(registry, dir, { recursive: true });
  return dir;
}

/**
 * Publishes the seed-2 model as the next version of `tiny` in `registry` (atomic, as training does),
 * or as the next version of another model `name`.
 */
export async function publishNextVersion(registry: string, name = TEST_MODEL): Promise<number> {
  const { nextVersion } = await testModels();
  return publishVersionFolder(registry, path.join(nextVersion, TEST_MODEL, '1'), name);
}

/**
 * Publishes the files of a version folder, with its metadata.json less what publishing assigns, as
 * the next version of `name` (default `tiny`) in `registry`; returns the new version number.
 */
export async function publishVersionFolder(
  registry: string,
  folder: string,
  name = TEST_MODEL,
): Promise<number> {
  const metadata = JSON.parse(await readFile(path.join(folder, METADATA_FILE), 'utf8')) as ModelMetadata;
  const published = await publish({
    root: registry,
    name,
    sourceDir: folder,
    metadata: draftOf(metadata),
  });
  return published.version;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
