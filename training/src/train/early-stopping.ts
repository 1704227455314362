/**
 * Early stopping and best-epoch tracking on validation accuracy, as a pure state transition so
 * the state can be checkpointed and a resumed run stops where the uninterrupted one would.
 */

export interface EarlyStoppingState {
  bestEpoch: number | null;
  bestAccuracy: number;
  /** Epochs since the last improvement. */
  staleEpochs: number;
}

export const INITIAL_EARLY_STOPPING: EarlyStoppingState = {
  bestEpoch: null,
  bestAccuracy: -1,
  staleEpochs: 0,
};

export interface EarlyStoppingUpdate {
  state: EarlyStoppingState;
  /** This epoch is the best so far (ties keep the earlier epoch). */
  improved: boolean;
  /** Patience is used up: stop after this epoch. */
  stop: boolean;
}

/**
 * The state after an epoch's validation accuracy; `patience` 0 never stops.
 *
 * @example observeEpoch(INITIAL_EARLY_STOPPING, 1, 0.42, 5) // { improved: true, stop: false, ... }
 */
export function observeEpoch(
  state: EarlyStoppingState,
  epoch: number,
  accuracy: number,
  patience: number,
): EarlyStoppingUpdate {
  if (accuracy > state.bestAccuracy) {
    return {
      state: { bestEpoch: epoch, bestAccuracy: accuracy, staleEpochs: 0 },
      improved: true,
      stop: false,
    };
  }
  const next = { ...state, staleEpochs: state.staleEpochs + 1 };
  return { state: next, improved: false, stop: patience > 0 && next.staleEpochs >= patience };
}
