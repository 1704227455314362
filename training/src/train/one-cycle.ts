/**
 * The one-cycle learning-rate policy as PyTorch's OneCycleLR computes it (cosine annealing, the
 * defaults the study used): the rate climbs from max/25 to max over the first 30% of steps,
 * then anneals to max/25/1e4; Adam's beta1 moves the opposite way, 0.95 -> 0.85 -> 0.95.
 * A pure function of the step, so a resumed run continues the same curve.
 */

export interface OneCycleConfig {
  maxLr: number;
  totalSteps: number;
  /** Share of steps spent warming up. */
  pctStart: number;
  /** initial lr = maxLr / divFactor. */
  divFactor: number;
  /** final lr = initial lr / finalDivFactor. */
  finalDivFactor: number;
  /** beta1 at the peak learning rate and at both ends; null keeps beta1 fixed. */
  momentum: { base: number; max: number } | null;
}

/** PyTorch's defaults, as used by the study's fit_one_cycle. */
export function oneCycleConfig(maxLr: number, totalSteps: number): OneCycleConfig {
  return {
    maxLr,
    totalSteps,
    pctStart: 0.3,
    divFactor: 25,
    finalDivFactor: 1e4,
    momentum: { base: 0.85, max: 0.95 },
  };
}

function cosineAnneal(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

/**
 * Learning rate and beta1 at a 0-based optimizer step.
 *
 * @example oneCycleAt(oneCycleConfig(1e-3, 100), 0) // { lr: 4e-5, beta1: 0.95 }
 */
export function oneCycleAt(config: OneCycleConfig, step: number): { lr: number; beta1: number | null } {
  if (config.totalSteps < 2) throw new RangeError('one-cycle needs at least 2 steps');
  const initial = config.maxLr / config.divFactor;
  const final = initial / config.finalDivFactor;
  const s = Math.min(Math.max(step, 0), config.totalSteps - 1);
  const warmEnd = config.pctStart * config.totalSteps - 1;
  const end = config.totalSteps - 1;
  const m = config.momentum;
  if (s <= warmEnd) {
    const pct = warmEnd > 0 ? s / warmEnd : 1;
    return {
      lr: cosineAnneal(initial, config.maxLr, pct),
      beta1: m ? cosineAnneal(m.max, m.base, pct) : null,
    };
  }
  const pct = (s - warmEnd) / (end - warmEnd);
  return { lr: cosineAnneal(config.maxLr, final, pct), beta1: m ? cosineAnneal(m.base, m.max, pct) : null };
}
