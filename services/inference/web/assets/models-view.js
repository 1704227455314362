/**
 * The "Models" view: the study (the backbone families in the registry and, when the service serves
 * docs/study, its table and chart), the side-by-side comparison when several models have test
 * metrics, then a tile per model (its family and configuration, its versions and their status, the
 * default version's accuracy and macro-F1) with links to its model card and to trying it.
 */
import { comparable, comparisonSection } from './comparison.js';
import { h, replaceChildren } from './dom.js';
import { compactCount, percent } from './format.js';
import { fetchStudy, familyName, studySection } from './study.js';
import { stateToSearch } from './url-state.js';
import { tile } from './widgets.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./types.js').ModelList} ModelList */
/** @typedef {import('./types.js').ModelSummary} ModelSummary */
/** @typedef {import('./types.js').VersionSummary} VersionSummary */
/** @typedef {import('./types.js').VersionDetail} VersionDetail */

/**
 * The version a model is represented by: its default version when it has metrics, else its newest
 * version with metrics, else its default or newest.
 *
 * @param {ModelSummary} model
 * @returns {VersionSummary | null}
 */
export function representative(model) {
  const byDefault = model.versions.find((v) => v.version === model.default_version) ?? null;
  if (byDefault?.metrics) return byDefault;
  const withMetrics = model.versions.filter((v) => v.metrics);
  return withMetrics.at(-1) ?? byDefault ?? model.versions.at(-1) ?? null;
}

/**
 * @param {ModelSummary} model
 * @param {string | null} defaultModel
 */
function modelTile(model, defaultModel) {
  const shown = representative(model);
  const arch = shown?.architecture;
  return h(
    'article',
    { class: 'panel model-tile', dataset: { model: model.name } },
    h(
      'div',
      { class: 'model-tile__head' },
      h(
        'div',
        {},
        h('h3', { class: 'model-tile__name', text: model.name }),
        arch
          ? h('p', {
              class: 'model-tile__arch',
              text: `${familyName(arch.family)} · ${arch.config} · ${compactCount(arch.parameters)} parameters${shown?.input_size ? ` · ${shown.input_size} px` : ''}`,
            })
          : null,
      ),
      model.name === defaultModel ? h('span', { class: 'chip chip--default', text: 'default model' }) : null,
    ),
    shown?.metrics
      ? h(
          'div',
          { class: 'tiles' },
          tile('Accuracy', percent(shown.metrics.accuracy), `v${shown.version}, ${shown.metrics.split}`),
          tile('Macro-F1', percent(shown.metrics.macro_f1)),
        )
      : h('p', { class: 'note', text: 'No test metrics for this model yet.' }),
    h(
      'div',
      { class: 'model-tile__versions', 'aria-label': 'Versions' },
      [...model.versions].reverse().map((v) =>
        h('span', {
          class: `chip chip--${v.status === 'ready' ? 'ready' : v.status}`,
          title: v.error ?? undefined,
          text: `v${v.version} ${v.status.replace('_', ' ')}${v.version === model.default_version ? ' · default' : ''}`,
        }),
      ),
    ),
    h(
      'div',
      { class: 'model-tile__actions' },
      h('a', {
        class: 'button button--small',
        href: stateToSearch({ view: 'card', model: model.name, version: null }),
        'aria-label': `Model card of ${model.name}`,
        text: 'Model card',
      }),
      model.default_version !== null
        ? h('a', {
            class: 'button button--small button--primary',
            href: stateToSearch({ view: 'try', model: model.name, version: null }),
            'aria-label': `Try it with ${model.name}`,
            text: 'Try it',
          })
        : null,
    ),
  );
}

/**
 * Renders the view. The comparison needs each version's full metadata (per-class metrics, the
 * confusion matrix), fetched here.
 *
 * @param {HTMLElement} container
 * @param {{ api: Api, list: ModelList }} options
 */
export async function renderModelsOverview(container, { api, list }) {
  if (list.models.length === 0) {
    replaceChildren(
      container,
      h('p', {
        class: 'note',
        text: 'The registry has no models yet. Train one into it (npm run train -- … --registry DIR) or publish one; it appears here without a reload.',
      }),
    );
    return;
  }
  const tiles = h(
    'section',
    { 'aria-labelledby': 'all-models-title' },
    h('h2', { class: 'section-title', id: 'all-models-title', text: 'All models' }),
    h('p', {
      class: 'section-lead',
      text: `${list.models.length} ${list.models.length === 1 ? 'model' : 'models'} in the registry.`,
    }),
    h(
      'div',
      { class: 'model-grid' },
      list.models.map((m) => modelTile(m, list.default_model)),
    ),
  );
  const candidates = list.models.flatMap((m) => {
    const v = representative(m);
    return v?.metrics ? [{ name: m.name, version: v.version }] : [];
  });
  const studySlot = h('div', {});
  const comparisonSlot = h('div', {});
  replaceChildren(container, studySlot, comparisonSlot, tiles);
  // The study and the comparison load side by side; the view is complete when both are in.
  const study = fetchStudy().then((found) => replaceChildren(studySlot, studySection(list, found)));
  await Promise.all([
    study,
    candidates.length >= 2 ? renderComparison(comparisonSlot, api, candidates) : null,
  ]);
}

/**
 * @param {HTMLElement} comparisonSlot
 * @param {Api} api
 * @param {{ name: string, version: number }[]} candidates
 */
async function renderComparison(comparisonSlot, api, candidates) {
  replaceChildren(comparisonSlot, h('p', { class: 'muted', text: 'Loading the comparison…' }));
  try {
    /** @type {VersionDetail[]} */
    const details = await Promise.all(
      candidates.map((c) => api.json(`/models/${encodeURIComponent(c.name)}/versions/${c.version}`)),
    );
    const compared = comparable(details);
    replaceChildren(comparisonSlot, compared.length >= 2 ? comparisonSection(compared) : null);
  } catch (error) {
    replaceChildren(
      comparisonSlot,
      h('p', {
        class: 'error-text',
        text: `The comparison could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
      }),
    );
  }
}
