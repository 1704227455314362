/**
 * `npm run bench:runtime [-- --models resnet152,densenet161 --batches 1,8,32 --input-size 64 ...]`
 *
 * Images/s and per-batch latency of each backbone x runtime (onnx, tfjs) x batch size, median of
 * repeated runs, with torchvision on Debian's PyTorch CPU (/usr/bin/python3) timed on the same input
 * and threads when it is installed, and each ratio to it. The models are full-size networks with
 * seeded random weights made by training's make-model CLI (a subprocess: the service never imports
 * training). Writes JSON (default bench-results/runtime.json) and prints a markdown table.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { BACKEND_NAMES, METADATA_FILE, type BackendName, type ModelMetadata } from '@fer/shared';
import {
  createInProcessRuntime,
  RUNTIME_KINDS,
  type InferenceRuntime,
  type RuntimeKind,
} from '../../src/runtime';
import { makeModel } from '../make-model';
import { formatTable, ratios, targets, toRow, type Measurement } from './runtime-stats';
import { RESULTS_DIR } from '../paths';

const run = promisify(execFile);
const TORCH_SCRIPT = path.join(__dirname, 'torch-runtime.py');
/** Debian's interpreter, which has python3-torch; the pyenv `python3` on PATH does not. */
const SYSTEM_PYTHON = '/usr/bin/python3';
/** make-model of a full-size network (build, calibrate, save, export, publish) on a busy machine. */
const MAKE_MODEL_TIMEOUT_MS = 10 * 60_000;
/** PyTorch on 2 cores takes seconds per batch of 32; a generous ceiling for the whole sweep. */
const TORCH_TIMEOUT_MS = 30 * 60_000;
const SEED = 1;

interface Settings {
  models: string[];
  runtimes: RuntimeKind[];
  batches: number[];
  inputSize: number;
  threads: number;
  minRepeats: number;
  maxRepeats: number;
  /** Keep repeating (up to maxRepeats) until a batch size has been timed this long. */
  minSeconds: number;
  tfjsBackend: BackendName;
  torch: boolean;
  out: string;
  /** Reuse models published here by an earlier run (else a temporary registry is made and removed). */
  registry: string | null;
}

function list(value: string, label: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error(`--${label} needs at least one value`);
  return items;
}

function positiveInt(value: string, label: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${label} must be a positive integer, got "${value}"`);
  return n;
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      models: { type: 'string', default: 'resnet152,densenet161' },
      runtimes: { type: 'string', default: RUNTIME_KINDS.join(',') },
      batches: { type: 'string', default: '1,8,32' },
      'input-size': { type: 'string', default: '64' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      'min-repeats': { type: 'string', default: '3' },
      'max-repeats': { type: 'string', default: '30' },
      'min-seconds': { type: 'string', default: '2' },
      'tfjs-backend': { type: 'string', default: 'wasm' },
      'no-torch': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(RESULTS_DIR, 'runtime.json') },
      registry: { type: 'string' },
    },
  });
  const runtimes = list(values.runtimes, 'runtimes');
  for (const r of runtimes) {
    if (!(RUNTIME_KINDS as readonly string[]).includes(r)) throw new Error(`unknown runtime "${r}"`);
  }
  const tfjsBackend = values['tfjs-backend'];
  if (!(BACKEND_NAMES as readonly string[]).includes(tfjsBackend))
    throw new Error(`unknown TF.js backend "${tfjsBackend}"`);
  const minSeconds = Number(values['min-seconds']);
  if (!(minSeconds >= 0)) throw new Error('--min-seconds must be a number >= 0');
  return {
    models: list(values.models, 'models'),
    runtimes: runtimes as RuntimeKind[],
    batches: list(values.batches, 'batches').map((b) => positiveInt(b, 'batches')),
    inputSize: positiveInt(values['input-size'], 'input-size'),
    threads: positiveInt(values.threads, 'threads'),
    minRepeats: positiveInt(values['min-repeats'], 'min-repeats'),
    maxRepeats: positiveInt(values['max-repeats'], 'max-repeats'),
    minSeconds,
    tfjsBackend: tfjsBackend as BackendName,
    torch: !values['no-torch'],
    out: path.resolve(values.out),
    registry: values.registry ? path.resolve(values.registry) : null,
  };
}

/** The newest version of `name` in `registry` when it matches the input size; null otherwise. */
async function existingVersion(registry: string, name: string, inputSize: number): Promise<string | null> {
  for (let version = 20; version >= 1; version--) {
    const dir = path.join(registry, name, String(version));
    try {
      const metadata = JSON.parse(await readFile(path.join(dir, METADATA_FILE), 'utf8')) as ModelMetadata;
      return metadata.preprocessing.input_size === inputSize ? dir : null;
    } catch {
      // not this version
    }
  }
  return null;
}

async function cachedModel(registry: string, config: string, inputSize: number): Promise<string> {
  const existing = await existingVersion(registry, config, inputSize);
  if (existing) {
    console.error(`using ${existing}`);
    return existing;
  }
  console.error(`making ${config} (input ${inputSize}) with make-model...`);
  return makeModel({ config, inputSize, registry, seed: SEED, timeoutMs: MAKE_MODEL_TIMEOUT_MS });
}

/** A deterministic batch roughly in the normalized input range. */
function inputBatch(length: number): Float32Array {
  const out = new Float32Array(length);
  let state = SEED;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out[i] = (state / 2147483648) * 4 - 2;
  }
  return out;
}

/**
 * Times each engine's `fn` after one warm-up call each, alternating between them run by run so
 * that a change in the machine's load (it is shared) hits every engine alike. Each gets at least
 * minRepeats runs, more until minSeconds have passed (up to maxRepeats).
 */
async function timeInterleaved(
  fns: Map<RuntimeKind, () => Promise<unknown>>,
  s: Settings,
): Promise<Map<RuntimeKind, number[]>> {
  const runs = new Map<RuntimeKind, number[]>();
  for (const [kind, fn] of fns) {
    await fn();
    runs.set(kind, []);
  }
  const started = performance.now();
  const done = (count: number) =>
    count >= s.maxRepeats || (count >= s.minRepeats && performance.now() - started >= s.minSeconds * 1000);
  for (let count = 0; !done(count); count++) {
    for (const [kind, fn] of fns) {
      const t0 = performance.now();
      await fn();
      runs.get(kind)?.push(performance.now() - t0);
    }
  }
  return runs;
}

async function benchModel(model: string, dir: string, s: Settings): Promise<Measurement[]> {
  const metadata = JSON.parse(await readFile(path.join(dir, METADATA_FILE), 'utf8')) as ModelMetadata;
  const runtimes = new Map<RuntimeKind, InferenceRuntime>();
  const out: Measurement[] = [];
  try {
    for (const kind of s.runtimes) {
      const runtime = createInProcessRuntime(kind, {
        device: 'cpu',
        threads: s.threads,
        tfjsBackend: s.tfjsBackend,
      });
      runtimes.set(kind, runtime);
      await runtime.load(dir, metadata);
    }
    const imageLength = s.inputSize * s.inputSize * 3;
    for (const batch of s.batches) {
      const input = inputBatch(batch * imageLength);
      const fns = new Map([...runtimes].map(([kind, rt]) => [kind, () => rt.run(input, batch)] as const));
      for (const [kind, runs] of await timeInterleaved(fns, s)) {
        const measurement: Measurement = { model, engine: kind, batch, runs_ms: runs };
        out.push(measurement);
        console.error(`${kind} ${model} batch ${batch}: ${toRow(measurement).median_ms.toFixed(1)} ms`);
      }
    }
  } finally {
    for (const runtime of runtimes.values()) await runtime.dispose();
  }
  return out;
}

interface TorchReport {
  torch: string;
  torchvision: string;
  threads: number;
  results: { model: string; batch: number; runs_ms: number[] }[];
}

async function benchTorch(s: Settings): Promise<TorchReport | { skipped: string }> {
  if (!s.torch) return { skipped: '--no-torch' };
  const spec = {
    models: s.models,
    batches: s.batches,
    input_size: s.inputSize,
    threads: s.threads,
    min_repeats: s.minRepeats,
    max_repeats: s.maxRepeats,
    min_seconds: s.minSeconds,
    num_classes: 6,
  };
  try {
    await run(SYSTEM_PYTHON, ['-c', 'import torch, torchvision'], { timeout: 60_000 });
  } catch {
    return {
      skipped: `${SYSTEM_PYTHON} with torch and torchvision is not available (Debian python3-torch, python3-torchvision)`,
    };
  }
  const child = execFile(SYSTEM_PYTHON, [TORCH_SCRIPT, JSON.stringify(spec)], {
    timeout: TORCH_TIMEOUT_MS,
    maxBuffer: 16 << 20,
  });
  child.stderr?.pipe(process.stderr);
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`torch-runtime.py exited with ${code}`);
  return JSON.parse(stdout) as TorchReport;
}

async function main(): Promise<void> {
  const s = parseSettings(process.argv.slice(2));
  const registry = s.registry ?? (await mkdtemp(path.join(os.tmpdir(), 'fer-bench-runtime-')));
  const startedAt = new Date().toISOString();
  // The machine may be shared: record how busy it was, since every figure depends on it.
  const loadBefore = os.loadavg();
  const measurements: Measurement[] = [];
  try {
    for (const model of s.models) {
      const dir = await cachedModel(registry, model, s.inputSize);
      measurements.push(...(await benchModel(model, dir, s)));
    }
  } finally {
    if (!s.registry) await rm(registry, { recursive: true, force: true });
  }
  const torch = await benchTorch(s);
  if ('results' in torch) {
    measurements.push(...torch.results.map((r) => ({ ...r, engine: 'torch' as const })));
  } else {
    console.error(`PyTorch skipped: ${torch.skipped}`);
  }

  const rows = measurements.map(toRow);
  const allRatios = ratios(rows);
  const goals = targets(allRatios);
  const report = {
    command: `npm run bench:runtime -- ${process.argv.slice(2).join(' ')}`.trim(),
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.availableParallelism(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      load_average_1m: { before: loadBefore[0], after: os.loadavg()[0] },
    },
    settings: { ...s, registry: s.registry },
    versions: {
      onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
      tfjs: tf.version.tfjs,
      torch:
        'torch' in torch
          ? `${torch.torch} (torchvision ${torch.torchvision}, ${torch.threads} threads)`
          : null,
    },
    notes: [
      `onnx: onnxruntime-node CPU execution provider, ${s.threads} intra-op threads, all graph optimizations`,
      `tfjs: TF.js ${s.tfjsBackend} backend${s.tfjsBackend === 'wasm' ? ' (single-threaded in Node)' : ''}`,
      'torch: torchvision model, weights=None, eval + inference_mode, softmax included, same threads',
      'random weights (seeded); throughput does not depend on the values',
      'onnx and tfjs runs alternate run by run; torch runs afterwards in its own process',
    ],
    results: rows,
    ratios: allRatios,
    targets: goals,
    torch_skipped: 'skipped' in torch ? torch.skipped : null,
  };
  await mkdir(path.dirname(s.out), { recursive: true });
  await writeFile(s.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatTable(rows, allRatios, goals));
  const [before, after] = [loadBefore[0], os.loadavg()[0]].map((l) => l.toFixed(1));
  console.log(
    `\nload average (1 min) ${before} before, ${after} after, on ${os.availableParallelism()} cores`,
  );
  console.log(`\nJSON: ${s.out}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
