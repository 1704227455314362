import { oneCycleAt, oneCycleConfig } from '../../src/train/one-cycle';
import reference from './fixtures/torch-reference.json';

/** float64 formulas on both sides; torch stores lr as a Python float. */
const TOLERANCE = 1e-12;

describe('oneCycleAt', () => {
  it("matches torch.optim.lr_scheduler.OneCycleLR's learning rate and beta1 at every step", () => {
    const { max_lr, total_steps, lr, beta1 } = reference.one_cycle;
    const config = oneCycleConfig(max_lr, total_steps);
    for (let step = 0; step < total_steps; step++) {
      const at = oneCycleAt(config, step);
      expect(Math.abs(at.lr - lr[step])).toBeLessThan(TOLERANCE);
      expect(Math.abs((at.beta1 ?? NaN) - beta1[step])).toBeLessThan(TOLERANCE);
    }
  });

  it('starts at max/25, peaks at max and ends at max/25/1e4', () => {
    const config = oneCycleConfig(1e-3, 1000);
    expect(oneCycleAt(config, 0).lr).toBeCloseTo(4e-5, 12);
    expect(Math.max(...Array.from({ length: 1000 }, (_, s) => oneCycleAt(config, s).lr))).toBeCloseTo(
      1e-3,
      9,
    );
    expect(oneCycleAt(config, 999).lr).toBeCloseTo(4e-9, 15);
    expect(oneCycleAt({ ...config, momentum: null }, 10).beta1).toBeNull();
  });
});
