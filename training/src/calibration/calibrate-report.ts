/**
 * report.md of a version made by `npm run calibrate`: which version it calibrates, its test
 * results, and the calibration section (temperature, before / after on validation and test,
 * per-class ECE, reliability diagram). The source's own report is kept beside it as
 * `source-report.md`. A pure function of the facts.
 */
import type { ModelMetrics } from '@fer/shared';
import { pct } from '../metrics/format-metrics';
import { calibrationSection, type CalibrationFacts } from '../report/calibration-section';
import { table } from '../report/markdown-table';
import { perClassTable } from '../report/report-markdown';

export interface CalibratedVersionFacts {
  name: string;
  version: number | null;
  source: { name: string; version: number; config: string };
  createdAt: string;
  codeRevision: string | null;
  command: string | null;
  dataset: { root: string; fingerprint: string };
  /** The test split, through the published model and through the source. */
  test: ModelMetrics;
  sourceTest: ModelMetrics;
  onnx: { bytes: number; opset: number; latencyMsPerImage: number; parityMaxDiff: number };
  /** The machine's one-minute load average and cores when the latency was measured. */
  load: { average: number; cores: number };
  confusionChart: string;
  calibration: CalibrationFacts;
  /** File name of the source's report.md copied beside this one, if it had one. */
  sourceReport: string | null;
}

/**
 * @example await writeFile(path.join(reportDir, 'report.md'), renderCalibratedReport(facts));
 */
export function renderCalibratedReport(f: CalibratedVersionFacts): string {
  const title = f.version === null ? f.name : `${f.name} v${f.version}`;
  const source = `${f.source.name} v${f.source.version}`;
  const row = (label: string, m: ModelMetrics) => [
    label,
    pct(m.accuracy),
    pct(m.macro_f1),
    m.calibration ? pct(m.calibration.ece) : '-',
    m.calibration ? m.calibration.nll.toFixed(4) : '-',
  ];
  return [
    `# ${title}: ${source} with a temperature`,
    '',
    `Test accuracy **${pct(f.test.accuracy)}**, macro-F1 **${pct(f.test.macro_f1)}**, ECE **${pct(f.test.calibration!.ece)}** on ${f.test.samples} images of the held-out "${f.test.split}" split.` +
      ` The network is ${source}'s (${f.source.config}), unchanged; only the temperature layer is new.` +
      (f.sourceReport ? ` How it was trained or assembled: [${f.sourceReport}](${f.sourceReport}).` : ''),
    '',
    table(
      ['', ''],
      [
        ['source', source],
        ['created', f.createdAt],
        ['code revision', f.codeRevision ?? 'unknown'],
        ['dataset', `\`${f.dataset.root}\` (fingerprint \`${f.dataset.fingerprint}\`)`],
        ['ONNX model', `${(f.onnx.bytes / 1e6).toFixed(2)} MB, opset ${f.onnx.opset}`],
        [
          'ONNX latency',
          `${f.onnx.latencyMsPerImage.toFixed(2)} ms per image (batch 1, CPU; load average ${f.load.average.toFixed(1)} on ${f.load.cores} cores)`,
        ],
        ['TF.js vs ONNX', `largest probability difference ${f.onnx.parityMaxDiff.toExponential(2)}`],
        ['command', f.command ? `\`${f.command}\`` : '-'],
      ],
      'text',
    ),
    '',
    '## Test results',
    '',
    table(
      ['model', 'accuracy', 'macro-F1', 'ECE', 'NLL'],
      [row(source, f.sourceTest), row(`**${title}**`, f.test)],
    ),
    '',
    perClassTable(f.test),
    '',
    `![confusion matrix](${f.confusionChart})`,
    '',
    calibrationSection(f.calibration),
  ].join('\n');
}
