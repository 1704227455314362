/** Small presentational pieces shared by the model card and the comparison: tiles, bars, scrolling tables. */
import { h, setStyle } from './dom.js';
import { percent } from './format.js';

/**
 * A labelled value tile.
 *
 * @param {string} label
 * @param {string} value
 * @param {string} [note]
 */
export function tile(label, value, note) {
  return h(
    'div',
    { class: 'tile' },
    h('span', { class: 'tile__label', text: label }),
    h('span', { class: 'tile__value', text: value }),
    note ? h('span', { class: 'tile__note', text: note }) : null,
  );
}

/**
 * A value with a small bar (for table cells).
 *
 * @param {number} value 0..1
 * @param {string} [color]
 */
export function cellBar(value, color) {
  const fill = h('span', { class: 'cell-bar__fill' });
  setStyle(fill, {
    width: `${Math.max(0, Math.min(1, value)) * 100}%`,
    ...(color ? { '--bar-color': color } : {}),
  });
  return h(
    'span',
    { class: 'cell-bar' },
    h('span', { text: percent(value) }),
    h('span', { class: 'cell-bar__track', 'aria-hidden': 'true' }, fill),
  );
}

/**
 * A horizontally scrollable wrapper for a wide table, reachable by keyboard.
 *
 * @param {HTMLElement} table
 * @param {string} label
 */
export function scrollable(table, label) {
  return h('div', { class: 'table-scroll', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}
