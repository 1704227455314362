import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/tfjs';

describe('selectBackend', () => {
  it('falls back past the missing native bindings to wasm and says why', async () => {
    const choice = await selectBackend();
    // tfjs-node cannot install on CI machines; where it can, `tensorflow` is the right answer.
    expect(['tensorflow', 'wasm']).toContain(choice.name);
    if (choice.name === 'wasm') expect(choice.skipped.join()).toMatch(/tfjs-node/);
    expect(tf.getBackend()).toBe(choice.name);
  });

  it('honours an explicit choice', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
