/**
 * Several models side by side (the study's question: ResNet152 or DenseNet161?): one column per
 * model version with test accuracy, macro-F1, F1 of every class, and cost (parameters, input,
 * training time), the best of each quality row marked; then their confusion matrices next to each
 * other. A warning says so when the versions were not evaluated on the same data.
 */
import { confusionTable } from './confusion-matrix.js';
import { h, setStyle } from './dom.js';
import { modelColor } from './expressions.js';
import { count, duration } from './format.js';
import { cellBar, scrollable } from './widgets.js';

/** @typedef {import('./types.js').VersionDetail} VersionDetail */
/** @typedef {import('./types.js').ModelMetadata} ModelMetadata */
/** @typedef {import('./types.js').Metrics} Metrics */
/** @typedef {{ name: string, version: number, metadata: ModelMetadata, metrics: Metrics }} Compared */

/** Values this close count as a tie for "best". */
const TIE_TOLERANCE = 1e-9;

/**
 * Index of the highest value, or null when there is no single best (fewer than two, or all equal).
 *
 * @param {(number | null)[]} values
 * @returns {number | null}
 * @example bestIndex([0.4, 0.52, 0.5]) // 1
 */
export function bestIndex(values) {
  const present = values.filter((v) => v !== null);
  if (present.length < 2) return null;
  const max = Math.max(.../** @type {number[]} */ (present));
  const winners = values.filter((v) => v !== null && Math.abs(v - max) <= TIE_TOLERANCE);
  return winners.length === 1
    ? values.findIndex((v) => v !== null && Math.abs(v - max) <= TIE_TOLERANCE)
    : null;
}

/**
 * The versions worth comparing: those with metrics.
 *
 * @param {VersionDetail[]} details
 * @returns {Compared[]}
 */
export function comparable(details) {
  return details.flatMap((d) =>
    d.metadata?.metrics
      ? [{ name: d.name, version: d.version, metadata: d.metadata, metrics: d.metadata.metrics }]
      : [],
  );
}

/**
 * @param {string} label
 * @param {(number | null)[]} values
 * @param {(value: number, index: number) => Node | string} show
 * @param {boolean} markBest
 */
function row(label, values, show, markBest) {
  const best = markBest ? bestIndex(values) : null;
  return h(
    'tr',
    {},
    h('th', { scope: 'row', text: label }),
    values.map((v, i) =>
      h(
        'td',
        { class: i === best ? 'best' : undefined },
        v === null ? '—' : show(v, i),
        h(
          'span',
          { class: 'best-slot' },
          i === best ? h('span', { class: 'best-badge', text: 'best' }) : null,
        ),
      ),
    ),
  );
}

/**
 * @param {string} label
 * @param {number} columns
 */
function groupRow(label, columns) {
  return h(
    'tr',
    { class: 'group-row' },
    h('th', { scope: 'colgroup', colspan: String(columns + 1), text: label }),
  );
}

/**
 * @param {Compared[]} compared
 * @returns {string | null}
 */
function dataWarning(compared) {
  // An ensemble has no training block; it records its members' dataset in its ensemble block.
  const fingerprints = new Set(
    compared.map(
      (c) =>
        c.metadata.training?.dataset.fingerprint ?? c.metadata.ensemble?.dataset?.fingerprint ?? 'unknown',
    ),
  );
  const splits = new Set(compared.map((c) => `${c.metrics.split}:${c.metrics.samples}`));
  if (fingerprints.size === 1 && splits.size === 1) return null;
  return 'These versions were not evaluated on the same data (different datasets or test splits): compare them with care.';
}

/**
 * The comparison section.
 *
 * @param {Compared[]} compared at least two
 * @returns {HTMLElement}
 */
export function comparisonSection(compared) {
  const classes = compared[0].metadata.classes;
  const heads = compared.map((c, i) => {
    const swatch = h('span', { class: 'legend__swatch', 'aria-hidden': 'true' });
    setStyle(swatch, { '--swatch': modelColor(i) });
    return h('th', { scope: 'col' }, swatch, `${c.name} v${c.version}`);
  });
  /** @param {(c: Compared) => number | null} pick */
  const values = (pick) => compared.map(pick);
  const percentBar = /** @param {number} v @param {number} i */ (v, i) => cellBar(v, modelColor(i));
  const warning = dataWarning(compared);
  const table = h(
    'table',
    { class: 'table', id: 'comparison-table' },
    h('caption', { text: 'Test-split metrics of each model’s version; higher is better.' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Metric' }), heads)),
    h(
      'tbody',
      {},
      row(
        'Test accuracy',
        values((c) => c.metrics.accuracy),
        percentBar,
        true,
      ),
      row(
        'Macro-F1',
        values((c) => c.metrics.macro_f1),
        percentBar,
        true,
      ),
      groupRow('F1 per class', compared.length),
      classes.map((cls) =>
        row(
          cls,
          values((c) => c.metrics.per_class[cls]?.f1 ?? null),
          percentBar,
          true,
        ),
      ),
      groupRow('Cost and setup', compared.length),
      row(
        'Parameters',
        values((c) => c.metadata.architecture.parameters),
        (v) => count(v),
        false,
      ),
      row(
        'Input size',
        values((c) => c.metadata.preprocessing.input_size),
        (v) => `${v} px`,
        false,
      ),
      row(
        'Training time',
        values((c) => c.metadata.training?.duration_s ?? null),
        (v) => duration(v),
        false,
      ),
      row(
        'Epochs',
        values((c) => c.metadata.training?.epochs ?? null),
        (v) => String(v),
        false,
      ),
      row(
        'Test images',
        values((c) => c.metrics.samples),
        (v) => count(v),
        false,
      ),
    ),
  );
  return h(
    'section',
    { class: 'panel', id: 'comparison', 'aria-labelledby': 'comparison-title' },
    h('h2', { class: 'section-title', id: 'comparison-title', text: 'Side by side' }),
    h('p', {
      class: 'section-lead',
      text: 'The default version of each model with test metrics. The best value of each quality row is marked.',
    }),
    warning ? h('p', { class: 'note', role: 'note', text: warning }) : null,
    scrollable(table, 'Model comparison'),
    h('h3', { class: 'section-title', text: 'Confusion matrices' }),
    h(
      'div',
      { class: 'side-by-side' },
      compared.map((c) =>
        scrollable(
          confusionTable(
            c.metrics,
            c.metadata.classes,
            `${c.name} v${c.version}: rows true class, columns prediction.`,
          ),
          `Confusion matrix of ${c.name} v${c.version}`,
        ),
      ),
    ),
  );
}
