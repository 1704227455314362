/**
 * Checkpoints of a training run: after every epoch the model's weights (batch-norm statistics
 * included), the optimizer's moments and the loop's state are written to a fresh folder that
 * then replaces the previous checkpoint, so a run killed at any moment leaves a complete one.
 * Float32 arrays are stored raw, so a restored run continues bit for bit.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AdamWSlotState } from './adamw';

export const CHECKPOINT_FORMAT = 1;
const STATE_FILE = 'state.json';
const WEIGHTS_FILE = 'weights.bin';
const OPTIMIZER_FILE = 'optimizer.bin';

export interface CheckpointContents<S> {
  /** The loop's JSON state (epoch, history, early stopping, ...). */
  state: S;
  /** Every model weight, in the model's weight order. */
  weights: Float32Array[];
  /** Optimizer slots by weight index; absent for a weights-only checkpoint (the best model). */
  optimizer?: Map<number, AdamWSlotState>;
}

interface StoredState<S> {
  format: number;
  state: S;
  weightLengths: number[];
  optimizer: { key: number; step: number; length: number }[] | null;
}

function concat(arrays: readonly Float32Array[]): Buffer {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function split(buffer: Buffer, lengths: readonly number[]): Float32Array[] {
  // Copy into an aligned buffer: a Buffer from readFile may start at any byte offset.
  const all = new Float32Array(buffer.byteLength / 4);
  new Uint8Array(all.buffer).set(buffer);
  const expected = lengths.reduce((a, b) => a + b, 0);
  if (all.length !== expected) throw new Error(`checkpoint holds ${all.length} floats, expected ${expected}`);
  const out: Float32Array[] = [];
  let offset = 0;
  for (const n of lengths) {
    out.push(all.slice(offset, offset + n));
    offset += n;
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Writes a checkpoint folder atomically: into `<dir>.tmp`, then swapped into place (the old
 * one is moved to `<dir>.old` first and removed last, so one of the two is always complete).
 *
 * @example await saveCheckpoint(path.join(runDir, 'checkpoint'), { state, weights, optimizer });
 */
export async function saveCheckpoint<S>(dir: string, contents: CheckpointContents<S>): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const slots = contents.optimizer ? [...contents.optimizer.entries()].sort((a, b) => a[0] - b[0]) : null;
  const stored: StoredState<S> = {
    format: CHECKPOINT_FORMAT,
    state: contents.state,
    weightLengths: contents.weights.map((w) => w.length),
    optimizer: slots ? slots.map(([key, s]) => ({ key, step: s.step, length: s.m.length })) : null,
  };
  await writeFile(path.join(tmp, WEIGHTS_FILE), concat(contents.weights));
  if (slots) await writeFile(path.join(tmp, OPTIMIZER_FILE), concat(slots.flatMap(([, s]) => [s.m, s.v])));
  // state.json last: its presence marks the folder complete.
  await writeFile(path.join(tmp, STATE_FILE), `${JSON.stringify(stored)}\n`);
  await rm(old, { recursive: true, force: true });
  if (await exists(dir)) await rename(dir, old);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/**
 * Reads the checkpoint at `dir` (or the `<dir>.old` a crash mid-swap left), or null when there is none.
 *
 * @example const checkpoint = await loadCheckpoint<LoopState>(path.join(runDir, 'checkpoint'));
 */
export async function loadCheckpoint<S>(dir: string): Promise<CheckpointContents<S> | null> {
  for (const candidate of [dir, `${dir}.old`]) {
    if (!(await exists(path.join(candidate, STATE_FILE)))) continue;
    const stored = JSON.parse(await readFile(path.join(candidate, STATE_FILE), 'utf8')) as StoredState<S>;
    if (stored.format !== CHECKPOINT_FORMAT) {
      throw new Error(
        `checkpoint ${candidate} has format ${stored.format}; this version reads ${CHECKPOINT_FORMAT}`,
      );
    }
    const weights = split(await readFile(path.join(candidate, WEIGHTS_FILE)), stored.weightLengths);
    let optimizer: Map<number, AdamWSlotState> | undefined;
    if (stored.optimizer) {
      const arrays = split(
        await readFile(path.join(candidate, OPTIMIZER_FILE)),
        stored.optimizer.flatMap((s) => [s.length, s.length]),
      );
      optimizer = new Map(
        stored.optimizer.map((s, i) => [s.key, { step: s.step, m: arrays[2 * i], v: arrays[2 * i + 1] }]),
      );
    }
    return optimizer ? { state: stored.state, weights, optimizer } : { state: stored.state, weights };
  }
  return null;
}
