/**
 * report.md of a published ensemble: its members, each member's and the ensemble's scores on the
 * shared validation images and on the test split, and the ensemble's confusion matrix. A pure
 * function of the facts.
 */
import type { ModelMetrics } from '@fer/shared';
import { pct } from '../metrics/format-metrics';
import { calibrationSection, type CalibrationFacts } from '../report/calibration-section';
import { perClassTable, table } from '../report/report-markdown';

export interface EnsembleMemberFacts {
  label: string;
  config: string;
  seed: number;
  validation: ModelMetrics;
  test: ModelMetrics;
  command: string | null;
}

export interface EnsembleFacts {
  name: string;
  version: number | null;
  createdAt: string;
  codeRevision: string | null;
  command: string | null;
  dataset: { root: string; fingerprint: string };
  split: { seed: number; fraction: number };
  /** Each member also sees the mirror image of the input. */
  mirror: boolean;
  members: readonly EnsembleMemberFacts[];
  validation: ModelMetrics;
  test: ModelMetrics;
  parameters: number;
  onnx: { bytes: number; opset: number; latencyMsPerImage: number; parityMaxDiff: number };
  confusionChart: string;
  calibration: CalibrationFacts;
}

/**
 * @example await writeFile(path.join(reportDir, 'report.md'), renderEnsembleReport(facts));
 */
export function renderEnsembleReport(f: EnsembleFacts): string {
  const title = f.version === null ? f.name : `${f.name} v${f.version}`;
  const scoreRow = (label: string, v: ModelMetrics, t: ModelMetrics) => [
    label,
    pct(v.accuracy),
    pct(v.macro_f1),
    pct(t.accuracy),
    pct(t.macro_f1),
  ];
  return [
    `# ${title}: ensemble of ${f.members.length} models`,
    '',
    `Test accuracy **${pct(f.test.accuracy)}**, macro-F1 **${pct(f.test.macro_f1)}** on ${f.test.samples} images of the held-out "${f.test.split}" split;` +
      (f.mirror
        ? ` the output is the mean of the members' probabilities on the image and on its mirror image.`
        : ` the output is the mean of the members' probabilities.`),
    '',
    table(
      ['', ''],
      [
        ['members', f.members.map((m) => m.label).join(', ')],
        ['parameters', f.parameters.toLocaleString('en-US')],
        ['created', f.createdAt],
        ['code revision', f.codeRevision ?? 'unknown'],
        ['ONNX model', `${(f.onnx.bytes / 1e6).toFixed(2)} MB, opset ${f.onnx.opset}`],
        ['ONNX latency', `${f.onnx.latencyMsPerImage.toFixed(2)} ms per image (batch 1, CPU)`],
        ['TF.js vs ONNX', `largest probability difference ${f.onnx.parityMaxDiff.toExponential(2)}`],
        ['command', f.command ? `\`${f.command}\`` : '-'],
      ],
      'text',
    ),
    '',
    '## Members and ensemble',
    '',
    `Validation: the ${f.validation.samples} images (a stratified ${pct(f.split.fraction)} of the training split, seed ${f.split.seed}) that every member held out,` +
      ` so these columns are the fair basis for choosing members. Test: the "${f.test.split}" split of \`${f.dataset.root}\`` +
      ` (fingerprint \`${f.dataset.fingerprint}\`), reported, never used for choices.`,
    '',
    table(
      ['model', 'validation accuracy', 'validation macro-F1', 'test accuracy', 'test macro-F1'],
      [
        ...f.members.map((m) => scoreRow(m.label, m.validation, m.test)),
        scoreRow('**ensemble**', f.validation, f.test),
      ],
    ),
    '',
    'How each member was trained:',
    '',
    ...f.members.map(
      (m) =>
        `- ${m.label} (${m.config}, seed ${m.seed}): ${m.command ? `\`${m.command}\`` : 'command not recorded'}`,
    ),
    '',
    '## Test results of the ensemble',
    '',
    perClassTable(f.test),
    '',
    `![confusion matrix](${f.confusionChart})`,
    '',
    calibrationSection(f.calibration),
  ].join('\n');
}
