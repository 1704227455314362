import { INITIAL_EARLY_STOPPING, observeEpoch } from '../../src/train/early-stopping';

describe('observeEpoch', () => {
  it('tracks the best epoch (ties keep the earlier one) and stops after `patience` stale epochs', () => {
    const accuracies = [0.3, 0.5, 0.5, 0.4, 0.45];
    let state = INITIAL_EARLY_STOPPING;
    const outcomes = accuracies.map((acc, i) => {
      const update = observeEpoch(state, i + 1, acc, 3);
      state = update.state;
      return [update.improved, update.stop];
    });
    expect(outcomes).toEqual([
      [true, false],
      [true, false],
      [false, false],
      [false, false],
      [false, true],
    ]);
    expect(state).toEqual({ bestEpoch: 2, bestAccuracy: 0.5, staleEpochs: 3 });
  });

  it('never stops with patience 0', () => {
    let state = observeEpoch(INITIAL_EARLY_STOPPING, 1, 0.9, 0).state;
    for (let e = 2; e < 50; e++) {
      const update = observeEpoch(state, e, 0.1, 0);
      expect(update.stop).toBe(false);
      state = update.state;
    }
  });
});
