/**
 * The arithmetic and the table of `npm run bench:runtime`: medians of timed runs, throughput,
 * ratios between runtimes, and the targets (ONNX >= 1x PyTorch and >= 5x TF.js at batch 32).
 * Pure functions of the measurements, apart from the script that takes them.
 */

/** The engines compared; `torch` is torchvision on Debian's python3-torch, timed by torch-runtime.py. */
export type Engine = 'onnx' | 'tfjs' | 'torch';

export interface Measurement {
  model: string;
  engine: Engine;
  batch: number;
  runs_ms: number[];
}

export interface Row extends Measurement {
  median_ms: number;
  /** The fastest run: on a shared machine, the closest to what the engine does undisturbed. */
  min_ms: number;
  ms_per_image: number;
  images_per_s: number;
}

export interface Ratio {
  model: string;
  batch: number;
  /** Throughput of ONNX Runtime divided by PyTorch's / TF.js's; null when either is missing. */
  onnx_vs_torch: number | null;
  onnx_vs_tfjs: number | null;
  tfjs_vs_torch: number | null;
}

export interface Target {
  model: string;
  batch: number;
  goal: string;
  ratio: number | null;
  met: boolean | null;
}

/** The targets, checked at this batch size. */
export const TARGET_BATCH = 32;
export const ONNX_VS_TORCH_TARGET = 1.0;
export const ONNX_VS_TFJS_TARGET = 5.0;

/**
 * The median of a non-empty list (mean of the middle two for an even count).
 *
 * @example median([3, 1, 2]) // 2
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median and fastest batch time, per-image time and images/s (from the median) of one measurement. */
export function toRow(m: Measurement): Row {
  const medianMs = median(m.runs_ms);
  return {
    ...m,
    median_ms: medianMs,
    min_ms: Math.min(...m.runs_ms),
    ms_per_image: medianMs / m.batch,
    images_per_s: (m.batch * 1000) / medianMs,
  };
}

function throughput(rows: readonly Row[], model: string, engine: Engine, batch: number): number | null {
  return (
    rows.find((r) => r.model === model && r.engine === engine && r.batch === batch)?.images_per_s ?? null
  );
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a / b;
}

/** Throughput ratios per model and batch size. */
export function ratios(rows: readonly Row[]): Ratio[] {
  const keys = [...new Set(rows.map((r) => `${r.model}\u0000${r.batch}`))];
  return keys.map((key) => {
    const [model, batchText] = key.split('\u0000');
    const batch = Number(batchText);
    const onnx = throughput(rows, model, 'onnx', batch);
    const tfjs = throughput(rows, model, 'tfjs', batch);
    const torch = throughput(rows, model, 'torch', batch);
    return {
      model,
      batch,
      onnx_vs_torch: ratio(onnx, torch),
      onnx_vs_tfjs: ratio(onnx, tfjs),
      tfjs_vs_torch: ratio(tfjs, torch),
    };
  });
}

/** The targets per model at TARGET_BATCH; `met` is null when a side was not measured. */
export function targets(all: readonly Ratio[]): Target[] {
  return all
    .filter((r) => r.batch === TARGET_BATCH)
    .flatMap((r) => [
      {
        model: r.model,
        batch: r.batch,
        goal: `onnx >= ${ONNX_VS_TORCH_TARGET}x torch`,
        ratio: r.onnx_vs_torch,
        min: ONNX_VS_TORCH_TARGET,
      },
      {
        model: r.model,
        batch: r.batch,
        goal: `onnx >= ${ONNX_VS_TFJS_TARGET}x tfjs`,
        ratio: r.onnx_vs_tfjs,
        min: ONNX_VS_TFJS_TARGET,
      },
    ])
    .map(({ min, ...t }) => ({ ...t, met: t.ratio === null ? null : t.ratio >= min }));
}

const fixed = (value: number | null, digits: number): string =>
  value === null ? '-' : value.toFixed(digits);

/**
 * A markdown table of every row with its ratios, then the targets.
 *
 * @example console.log(formatTable(rows, ratios(rows), targets(ratios(rows))));
 */
export function formatTable(rows: readonly Row[], all: readonly Ratio[], goals: readonly Target[]): string {
  const lines = [
    '| model | engine | batch | runs | median ms/batch | min ms/batch | ms/image | images/s | x torch | onnx x tfjs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const rr = all.find((x) => x.model === r.model && x.batch === r.batch);
    const vsTorch = r.engine === 'onnx' ? rr?.onnx_vs_torch : r.engine === 'tfjs' ? rr?.tfjs_vs_torch : 1;
    const vsTfjs = r.engine === 'onnx' ? rr?.onnx_vs_tfjs : null;
    lines.push(
      `| ${r.model} | ${r.engine} | ${r.batch} | ${r.runs_ms.length} | ${r.median_ms.toFixed(1)} | ${r.min_ms.toFixed(1)} | ` +
        `${r.ms_per_image.toFixed(2)} | ${r.images_per_s.toFixed(1)} | ${fixed(vsTorch ?? null, 2)} | ${fixed(vsTfjs ?? null, 1)} |`,
    );
  }
  lines.push('', '| model | batch | target | ratio | met |', '|---|---:|---|---:|---|');
  for (const t of goals) {
    lines.push(
      `| ${t.model} | ${t.batch} | ${t.goal} | ${fixed(t.ratio, 2)} | ${t.met === null ? 'not measured' : t.met ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}
