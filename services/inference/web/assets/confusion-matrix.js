/**
 * The confusion matrix as an HTML table: rows are the true classes, columns the predictions, each
 * cell the count with its share of the row (the diagonal is each class's recall), shaded by that
 * share. A table rather than a picture, so it reads well with a screen reader and at any size.
 */
import { h, setStyle } from './dom.js';
import { percent } from './format.js';

/** @typedef {import('./types.js').Metrics} Metrics */

/** Shading from an empty cell to a full row (sRGB). */
const LIGHT = [244, 246, 252];
const DARK = [49, 46, 129];
/**
 * Pure black and white: whichever contrasts more with any shade reaches at least 4.58:1 (WCAG AA
 * for small text); a softer dark would fall below 4.5 around the crossover shade.
 */
const DARK_TEXT = [0, 0, 0];
const LIGHT_TEXT = [255, 255, 255];

/**
 * @param {number[]} rgb
 * @returns {number}
 */
function luminance(rgb) {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * WCAG contrast ratio of two colours.
 *
 * @param {number[]} a
 * @param {number[]} b
 * @example contrast([255, 255, 255], [0, 0, 0]) // 21
 */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Background and text colour of a cell holding `share` of its row: the text colour is whichever of
 * dark and white contrasts more with the shade.
 *
 * @param {number} share 0..1
 * @returns {{ background: string, color: string }}
 */
export function cellColors(share) {
  const t = Math.max(0, Math.min(1, share));
  const background = LIGHT.map((v, i) => Math.round(v + (DARK[i] - v) * t));
  const text = contrast(background, DARK_TEXT) >= contrast(background, LIGHT_TEXT) ? DARK_TEXT : LIGHT_TEXT;
  return { background: `rgb(${background.join(' ')})`, color: `rgb(${text.join(' ')})` };
}

/**
 * @param {Metrics} metrics
 * @param {string[]} classes row and column order (the model's classes)
 * @param {string} caption
 * @returns {HTMLTableElement}
 */
export function confusionTable(metrics, classes, caption) {
  const matrix = metrics.confusion_matrix;
  return h(
    'table',
    { class: 'confusion' },
    h('caption', { text: caption }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { class: 'confusion__corner', scope: 'col' }, 'true ↓', h('br'), 'predicted →'),
        classes.map((c) => h('th', { scope: 'col', text: c })),
      ),
    ),
    h(
      'tbody',
      {},
      classes.map((actual, row) => {
        const counts = matrix[row] ?? [];
        const total = counts.reduce((a, b) => a + b, 0);
        return h(
          'tr',
          {},
          h('th', { scope: 'row', text: actual }),
          classes.map((predicted, column) => {
            const n = counts[column] ?? 0;
            const share = total > 0 ? n / total : 0;
            const cell = h(
              'td',
              {
                class: row === column ? 'confusion__diagonal' : undefined,
                title: `${actual} predicted as ${predicted}: ${n} of ${total} (${percent(share)})`,
              },
              String(n),
              h('span', { class: 'confusion__share', text: percent(share, 0) }),
            );
            const colors = cellColors(share);
            setStyle(cell, { backgroundColor: colors.background, color: colors.color });
            return cell;
          }),
        );
      }),
    ),
  );
}
