/**
 * The study on the Models view: the backbone families the registry holds (ResNet, DenseNet) and,
 * when the service serves the committed study page (GET /study/study.json, written by
 * `npm run study-page`), its headline table, its quality chart and a link to the whole page.
 * The study is documentation, public even with API keys, so it is fetched without the key prompt.
 */
import { h } from './dom.js';
import { compactCount, duration, fileSize, percent } from './format.js';
import { scrollable } from './widgets.js';

/** @typedef {import('./types.js').ModelList} ModelList */
/**
 * One model of the study, as study.json (the comparison of `npm run train -- --backbone a,b`) has it.
 * @typedef {{
 *   name: string, version: number, family: string, accuracy: number, macroF1: number, ece: number | null,
 *   parameters: number, multiplyAdds: number | null, inputSize: number, secondsPerEpoch: number | null,
 *   cropsPerS: { batch1: number, batch32: number } | null, modelBytes: number,
 *   shipped?: { name: string, version: number } | null
 * }} StudyRow
 * @typedef {{ context: { testSplit: string, createdAt: string }, rows: StudyRow[] }} Study
 */

export const STUDY_URL = '/study/';

const FAMILY_NAMES = /** @type {Record<string, string>} */ ({ resnet: 'ResNet', densenet: 'DenseNet' });

/**
 * @param {string} family
 * @example familyName('densenet') // 'DenseNet'
 */
export function familyName(family) {
  return FAMILY_NAMES[family] ?? family;
}

/**
 * The registry's model names by backbone family (from each model's newest version that says).
 *
 * @param {ModelList} list
 * @returns {Map<string, string[]>}
 * @example modelsByFamily(list) // Map { 'resnet' => ['resnet-small', 'resnet-small-x3'], 'densenet' => ['densenet-small'] }
 */
export function modelsByFamily(list) {
  /** @type {Map<string, string[]>} */
  const families = new Map();
  for (const model of list.models) {
    const family = [...model.versions].reverse().find((v) => v.architecture)?.architecture?.family;
    if (!family) continue;
    families.set(family, [...(families.get(family) ?? []), model.name]);
  }
  // The study's order (ResNet, then DenseNet), then any other family by name.
  const rank = (/** @type {string} */ family) => {
    const known = Object.keys(FAMILY_NAMES).indexOf(family);
    return known === -1 ? Object.keys(FAMILY_NAMES).length : known;
  };
  return new Map([...families].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)));
}

/**
 * The study's data, or null when the service has no study page.
 *
 * @returns {Promise<Study | null>}
 */
export async function fetchStudy() {
  try {
    const response = await fetch(`${STUDY_URL}study.json`, { headers: { accept: 'application/json' } });
    if (!response.ok) return null;
    const study = /** @type {Study} */ (await response.json());
    return Array.isArray(study?.rows) && study.rows.length > 0 ? study : null;
  } catch {
    return null;
  }
}

/**
 * The version a user can pick: the shipped one with the same model.onnx (the study numbers its own
 * versions), or the study's own name and number when it is not served.
 *
 * @param {StudyRow} r
 */
function rowLabel(r) {
  if (r.shipped) return `${r.shipped.name} v${r.shipped.version}`;
  return r.shipped === null ? `${r.name} v${r.version} (not served)` : `${r.name} v${r.version}`;
}

/**
 * @param {StudyRow[]} rows
 */
function studyTable(rows) {
  /** @type {[string, (r: StudyRow) => string][]} */
  const columns = [
    ['Family', (r) => familyName(r.family)],
    ['Test accuracy', (r) => percent(r.accuracy)],
    ['Macro-F1', (r) => percent(r.macroF1)],
    ['ECE', (r) => (r.ece === null ? '—' : percent(r.ece))],
    ['Parameters', (r) => compactCount(r.parameters)],
    ['Multiply-adds', (r) => (r.multiplyAdds === null ? '—' : compactCount(r.multiplyAdds))],
    ['Time / epoch', (r) => (r.secondsPerEpoch === null ? '—' : duration(r.secondsPerEpoch))],
    ['Crops/s (1)', (r) => (r.cropsPerS ? String(Math.round(r.cropsPerS.batch1)) : '—')],
    ['Crops/s (32)', (r) => (r.cropsPerS ? String(Math.round(r.cropsPerS.batch32)) : '—')],
    ['Size', (r) => fileSize(r.modelBytes)],
  ];
  return h(
    'table',
    { class: 'table', id: 'study-table' },
    h('caption', {
      text: 'The study’s models on the test split; cost measured on the CPU that trained them (crops/s: ONNX Runtime at batch 1 and 32).',
    }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', text: 'Model' }),
        columns.map(([label]) => h('th', { scope: 'col', text: label })),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', text: rowLabel(r) }),
          columns.map(([, show]) => h('td', { text: show(r) })),
        ),
      ),
    ),
  );
}

/**
 * The study section: the families in the registry, then the study page's table, chart and link.
 *
 * @param {ModelList} list
 * @param {Study | null} study
 * @returns {HTMLElement}
 */
export function studySection(list, study) {
  const families = modelsByFamily(list);
  const title = study
    ? `The study: ${[...new Set(study.rows.map((r) => familyName(r.family)))].join(' vs ')}`
    : 'The study: ResNet vs DenseNet';
  return h(
    'section',
    { class: 'panel', id: 'study', 'aria-labelledby': 'study-title' },
    h('h2', { class: 'section-title', id: 'study-title', text: title }),
    h('p', {
      class: 'section-lead',
      text: 'Which backbone family recognizes the six expressions better, and at what cost? Each family’s models answer requests that name them.',
    }),
    h(
      'ul',
      { class: 'study-families', 'aria-label': 'Model families in the registry' },
      [...families].map(([family, names]) =>
        h('li', { dataset: { family } }, h('strong', { text: `${familyName(family)}: ` }), names.join(', ')),
      ),
    ),
    study
      ? [
          scrollable(studyTable(study.rows), 'The study’s models'),
          h('img', {
            class: 'study-chart',
            src: `${STUDY_URL}comparison-quality.svg`,
            alt: 'Test accuracy and macro-F1 of the study’s models',
          }),
          h(
            'p',
            {},
            h('a', {
              href: `${STUDY_URL}README.md`,
              target: '_blank',
              rel: 'noopener',
              text: 'The whole study: curves, confusion matrices, the original study (docs/study/README.md, opens in a new tab)',
            }),
          ),
        ]
      : h('p', {
          class: 'note',
          text: 'The study page (docs/study, written by npm run study-page) is not served here.',
        }),
  );
}
