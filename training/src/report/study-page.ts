/**
 * The study page committed in docs/study/: a finished comparison (comparison.json of
 * `npm run train -- --backbone a,b`) as one markdown page with its charts, plus study.json for the
 * demo page's Models view. Pure: the command (cli/study-page.ts) reads and writes the files.
 */
import { pct } from '../metrics/format-metrics';
import { comparisonMarkdown, ORIGINAL_STUDY, type ComparisonFile, type ComparisonRow } from './comparison';

/** Where a study version is served from: the shipped version with the same model.onnx. */
export interface ShippedAs {
  name: string;
  version: number;
}

/** A comparison row as the page publishes it: with the shipped version it is, when there is one. */
export type StudyRow = ComparisonRow & { shipped: ShippedAs | null };

export interface StudyFile extends Omit<ComparisonFile, 'rows'> {
  rows: StudyRow[];
}

/** A version's identity for matching: its name, number and model.onnx sha256. */
export interface VersionDigest {
  name: string;
  version: number;
  onnxSha256: string | null;
}

/**
 * Each row with the shipped version whose model.onnx is byte-identical to the row's (the study
 * publishes into its own registry, so its `resnet-small v1` can be `models/resnet-small v2`); the
 * same name first, then the lowest version. Null when none is.
 *
 * @example withShipped(rows, studyDigests, shippedDigests)[0].shipped // { name: 'resnet-small', version: 2 }
 */
export function withShipped(
  rows: readonly ComparisonRow[],
  study: readonly VersionDigest[],
  shipped: readonly VersionDigest[],
): StudyRow[] {
  return rows.map((r) => {
    const sha = study.find((v) => v.name === r.name && v.version === r.version)?.onnxSha256 ?? null;
    const same = shipped
      .filter((v) => sha !== null && v.onnxSha256 === sha)
      .sort((a, b) => Number(b.name === r.name) - Number(a.name === r.name) || a.version - b.version);
    return { ...r, shipped: same[0] ? { name: same[0].name, version: same[0].version } : null };
  });
}

/** "resnet-small v2", or a note that the row is not shipped. */
function shippedText(r: StudyRow): string {
  return r.shipped ? `${r.shipped.name} v${r.shipped.version}` : 'not shipped';
}

/** The page's file names in docs/study/. */
export const STUDY_PAGE_FILE = 'README.md';
export const STUDY_DATA_FILE = 'study.json';

/**
 * The comparison as it is published: the dataset named by its folder, not by a path of the machine
 * that trained it.
 *
 * @example publishedComparison(file).context.dataset // 'kaggle (fer6)'
 */
export function publishedComparison(file: ComparisonFile): ComparisonFile {
  const dataset = file.context.dataset.replace(/ at (?:.*[\\/])?([^\\/]+)[\\/]?$/, ' ($1)');
  return { ...file, context: { ...file.context, dataset } };
}

const FAMILY_NAMES: Record<string, string> = { resnet: 'ResNet', densenet: 'DenseNet' };
const familyName = (family: string) => FAMILY_NAMES[family] ?? family;

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Our best version of each family the original study trained, beside what the original reported. */
function originalComparison(rows: readonly ComparisonRow[]): string[] {
  const lines = [
    row(['family', 'original (PyTorch notebooks)', 'reported', 'ours', 'test accuracy', 'difference']),
    row(['---', '---', '---:', '---', '---:', '---:']),
  ];
  for (const original of ORIGINAL_STUDY) {
    const ours = rows.filter((r) => r.family === original.family).sort((a, b) => b.accuracy - a.accuracy)[0];
    lines.push(
      row([
        familyName(original.family),
        `${original.backbone}, ${original.note}`,
        pct(original.accuracy),
        ours ? `${ours.name} v${ours.version}` : '-',
        ours ? pct(ours.accuracy) : '-',
        ours ? `${((ours.accuracy - original.accuracy) * 100).toFixed(1)} points` : '-',
      ]),
    );
  }
  return lines;
}

/**
 * docs/study/README.md for a finished comparison.
 *
 * @example await writeFile('docs/study/README.md', studyPageMarkdown(publishedComparison(file), 'artifacts/comparisons/x'));
 */
export function studyPageMarkdown(file: StudyFile, source: string): string {
  const { rows, context } = file;
  const families = [...new Set(rows.map((r) => familyName(r.family)))];
  const inputs = [...new Set(rows.map((r) => `${r.inputSize} px`))].join(', ');
  const epochs = rows.map((r) => `${r.name}: ${r.epochsRun} epochs, best ${r.bestEpoch ?? '-'}`).join('; ');
  return [
    `# The study: ${families.join(' vs ')}`,
    '',
    `<!-- Written by \`npm run study-page -- ${source}\` from the comparison that \`npm run train\` wrote; rerun it rather than editing this file. -->`,
    '',
    'The question this product was built for: for recognizing six facial expressions, which backbone family',
    'is better, ResNet or DenseNet, and at what cost? The full-size study (ResNet152 vs DenseNet161) needs a',
    'GPU machine; README.md, "The study", has its commands. This page is the same study at the scale of the',
    "project's 2-core CPU machine: one configuration of each family from the same builders, trained with one",
    'recipe and one validation split by `npm run train -- --backbone a,b`, which also wrote the comparison below.',
    "The shipped ones answer `POST /predict?model=<name>`; the demo page's Models view shows them side by side.",
    'The study published into its own registry, so its version numbers are its own; the shipped version with',
    'the byte-identical `model.onnx` is:',
    '',
    row(['study version', 'shipped in models/ as']),
    row(['---', '---']),
    ...rows.map((r) => row([`${r.name} v${r.version}`, shippedText(r)])),
    '',
    comparisonMarkdown(rows, context, { headingLevel: 2, originalStudy: false }).trimEnd(),
    '',
    '## Ours and the original study',
    '',
    'The PyTorch notebooks this project replaces fine-tuned the full-size ResNet152 and DenseNet161 and reported these',
    'accuracies on the same test split:',
    '',
    ...originalComparison(rows),
    '',
    'The numbers are not a like-for-like comparison:',
    '',
    '- **Validation split.** The notebooks validated on the test split itself and reported its accuracy at their final (or',
    '  best) epoch, so the test images chose their model. Here a stratified 10% of the training split, drawn with',
    '  `--split-seed`, chooses the epoch, and the test split is read once per published version.',
    `- **Networks and input size.** Ours: reduced configurations of the same topologies, trained from scratch at ${inputs}`,
    '  (the full-size networks take about 48 h per backbone on this CPU); the notebooks: the full-size networks at',
    '  64 px.',
    "- **Recipe.** `npm run train`'s defaults are the original recipe (20 epochs, batch 128, 64 px, AdamW with a one-cycle",
    "  schedule up to 1e-3), except for normalization: ImageNet's statistics where the notebooks used CIFAR's. The command above shows",
    `  where this run departs from it. Epochs run with early stopping on validation accuracy: ${epochs}.`,
    '',
  ].join('\n');
}
