import {
  formatTable,
  median,
  ratios,
  targets,
  toRow,
  type Measurement,
} from '../../../tools/bench/runtime-stats';

describe('bench:runtime statistics', () => {
  it('takes the median of odd and even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  const measurements: Measurement[] = [
    { model: 'resnet152', engine: 'onnx', batch: 32, runs_ms: [400, 380, 420] },
    { model: 'resnet152', engine: 'tfjs', batch: 32, runs_ms: [3200, 3000, 3400] },
    { model: 'resnet152', engine: 'torch', batch: 32, runs_ms: [800, 820, 780] },
    { model: 'densenet161', engine: 'onnx', batch: 32, runs_ms: [300] },
  ];
  const rows = measurements.map(toRow);

  it('turns runs into median latency and throughput', () => {
    expect(rows[0]).toMatchObject({ median_ms: 400, min_ms: 380, ms_per_image: 12.5, images_per_s: 80 });
  });

  it('computes the ratios and checks the issue targets at batch 32', () => {
    const all = ratios(rows);
    expect(all.find((r) => r.model === 'resnet152')).toEqual({
      model: 'resnet152',
      batch: 32,
      onnx_vs_torch: 2,
      onnx_vs_tfjs: 8,
      tfjs_vs_torch: 0.25,
    });
    const goals = targets(all);
    expect(goals.filter((g) => g.model === 'resnet152').map((g) => g.met)).toEqual([true, true]);
    // densenet161 has no torch or tfjs measurement: its targets are unknown, not failed.
    expect(goals.filter((g) => g.model === 'densenet161').map((g) => g.met)).toEqual([null, null]);
    const table = formatTable(rows, all, goals);
    expect(table).toContain('| resnet152 | onnx | 32 | 3 | 400.0 | 380.0 | 12.50 | 80.0 | 2.00 | 8.0 |');
    expect(table).toContain('| densenet161 | 32 | onnx >= 1x torch | - | not measured |');
  });
});
