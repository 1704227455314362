/**
 * The header's model picker, fed by GET /models: per model "latest" (the service's default
 * version, which follows new versions) and each version pinned; versions that cannot serve are
 * listed but disabled, with their status.
 */
import { h, replaceChildren } from './dom.js';

/** @typedef {import('./types.js').ModelList} ModelList */
/** @typedef {{ model: string | null, version: number | null }} Selection */

const STATUS_TEXT = /** @type {Readonly<Record<string, string>>} */ ({
  loading: 'loading',
  failed: 'failed',
  not_loaded: 'not loaded',
});

/**
 * The option value of a selection: "name" for latest, "name@3" for a pinned version.
 *
 * @param {Selection} selection
 * @example optionValue({ model: 'resnet152', version: 3 }) // 'resnet152@3'
 */
export function optionValue(selection) {
  if (selection.model === null) return '';
  return selection.version === null ? selection.model : `${selection.model}@${selection.version}`;
}

/**
 * @param {string} value
 * @returns {Selection}
 */
function parseValue(value) {
  if (value === '') return { model: null, version: null };
  const at = value.lastIndexOf('@');
  return at < 0
    ? { model: value, version: null }
    : { model: value.slice(0, at), version: Number(value.slice(at + 1)) };
}

/**
 * Whether `selection` names something the list has (a model; and the version, when pinned).
 *
 * @param {ModelList} list
 * @param {Selection} selection
 */
export function selectionExists(list, selection) {
  if (selection.model === null) return true;
  const model = list.models.find((m) => m.name === selection.model);
  if (!model) return false;
  return selection.version === null || model.versions.some((v) => v.version === selection.version);
}

export class ModelPicker {
  /**
   * @param {HTMLSelectElement} select
   * @param {(selection: Selection) => void} onChange
   */
  constructor(select, onChange) {
    this.select = select;
    select.addEventListener('change', () => onChange(parseValue(select.value)));
  }

  /**
   * Rebuilds the options from `list` and selects `selection` (the service's default when null).
   *
   * @param {ModelList} list
   * @param {Selection} selection
   */
  update(list, selection) {
    const anyReady = list.models.some((m) => m.default_version !== null);
    if (list.models.length === 0 || !anyReady) {
      replaceChildren(
        this.select,
        h('option', { value: '', text: list.models.length === 0 ? 'No models' : 'No model loaded yet' }),
      );
      this.select.disabled = true;
      return;
    }
    const groups = list.models.map((model) => {
      const multiple = model.versions.length > 1;
      const latest = model.default_version;
      /** @type {HTMLOptionElement[]} */
      const options = [];
      if (latest !== null) {
        options.push(
          h('option', {
            value: model.name,
            text: multiple ? `${model.name} · latest (v${latest})` : `${model.name} v${latest}`,
          }),
        );
      }
      for (const version of [...model.versions].reverse()) {
        if (!multiple && version.version === latest) continue;
        const status =
          version.status === 'ready' ? '' : ` (${STATUS_TEXT[version.status] ?? version.status})`;
        options.push(
          h('option', {
            value: `${model.name}@${version.version}`,
            text: `${model.name} v${version.version}${status}`,
            disabled: version.status !== 'ready',
          }),
        );
      }
      return h('optgroup', { label: model.name }, options);
    });
    replaceChildren(this.select, groups);
    this.select.disabled = false;
    const wanted = selection.model === null ? list.default_model : optionValue(selection);
    const match = [...this.select.options].find((o) => o.value === wanted && !o.disabled);
    this.select.value = match ? match.value : (list.default_model ?? this.select.options[0]?.value ?? '');
  }
}
