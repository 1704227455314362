import { mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint';

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-checkpoint-'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('checkpoints', () => {
  const weights = [Float32Array.from([1.5, -2, Math.PI]), Float32Array.from([0.1])];
  const optimizer = new Map([[3, { step: 7, m: Float32Array.from([0.25]), v: Float32Array.from([1e-9]) }]]);

  it('round-trip weights, optimizer slots and state bit for bit', async () => {
    const dir = path.join(tmp, 'checkpoint');
    await saveCheckpoint(dir, { state: { epoch: 2, note: 'x' }, weights, optimizer });
    const loaded = await loadCheckpoint<{ epoch: number }>(dir);
    expect(loaded?.state).toEqual({ epoch: 2, note: 'x' });
    expect(loaded?.weights).toEqual(weights);
    expect(loaded?.optimizer).toEqual(optimizer);
  });

  it('replace the previous checkpoint, and survive a crash in the middle of the swap', async () => {
    const dir = path.join(tmp, 'checkpoint');
    await saveCheckpoint(dir, { state: { epoch: 1 }, weights });
    await saveCheckpoint(dir, { state: { epoch: 2 }, weights });
    expect((await loadCheckpoint<{ epoch: number }>(dir))?.state.epoch).toBe(2);
    expect((await loadCheckpoint<{ epoch: number }>(dir))?.optimizer).toBeUndefined();
    // A crash after "rename dir -> dir.old" and before "rename tmp -> dir" leaves only dir.old.
    await rename(dir, `${dir}.old`);
    expect((await loadCheckpoint<{ epoch: number }>(dir))?.state.epoch).toBe(2);
  });

  it('are null when there is none', async () => {
    expect(await loadCheckpoint(path.join(tmp, 'none'))).toBeNull();
  });
});
