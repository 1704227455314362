/**
 * The training workspace's `make-model` CLI as a subprocess (the service never imports training):
 * publishes a seeded random-weight backbone into a registry, for the tests and the benchmarks.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths';

const run = promisify(execFile);
/** The full-size backbone the service benchmark and the soak run serve unless told otherwise. */
export const BENCH_MODEL = { config: 'resnet152', inputSize: 64 } as const;
/** Building resnet152 with random weights and exporting it takes minutes on a busy 2-core machine. */
export const FULL_SIZE_MAKE_MODEL_TIMEOUT_MS = 30 * 60_000;
/** make-model prints one JSON line; the rest of its output goes to stderr. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface MakeModelRequest {
  /** A backbone name of the builders (resnet152, resnet-tiny, ...). */
  config: string;
  inputSize: number;
  registry: string;
  /** Model name in the registry; make-model's default is the config name. */
  name?: string;
  seed?: number;
  timeoutMs: number;
}

/**
 * Runs make-model and resolves to the folder of the version it published.
 *
 * @example const dir = await makeModel({ config: 'resnet-tiny', inputSize: 32, registry, seed: 1, timeoutMs: 120_000 });
 * @throws Error with make-model's stderr when it fails or times out.
 */
export async function makeModel(request: MakeModelRequest): Promise<string> {
  const { config, inputSize, registry, name, seed, timeoutMs } = request;
  const args = ['run', '-s', '-w', 'training', 'make-model', '--'];
  args.push('--config', config, '--input-size', String(inputSize), '--registry', registry);
  if (name !== undefined) args.push('--name', name);
  if (seed !== undefined) args.push('--seed', String(seed));
  try {
    const { stdout } = await run('npm', args, {
      cwd: REPO_ROOT,
      timeout: timeoutMs,
      maxBuffer: MAX_OUTPUT_BYTES,
    });
    return (JSON.parse(stdout) as { dir: string }).dir;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const what = `${name ?? config}${seed === undefined ? '' : ` (seed ${seed})`}`;
    throw new Error(`make-model failed for ${what}: ${stderr || String(error)}`);
  }
}
