/**
 * Drawing one /predict answer: a box per face over the picture (numbered, in the face's colour,
 * with its top expression) and, in the results panel, a card per face with the probabilities as
 * labelled bars. Pure rendering: the caller owns the elements and the requests.
 */
import { h, replaceChildren, setStyle } from './dom.js';
import { expressionColor, faceColor } from './expressions.js';
import { milliseconds, percent } from './format.js';
import { keepTagsApart } from './tag-layout.js';

/** @typedef {import('./types.js').PredictResponse} PredictResponse */
/** @typedef {import('./types.js').Face} Face */

/** A box narrower than this share of the picture gets only its number (its card has the rest). */
const COMPACT_WIDTH_SHARE = 0.09;
/** Landmark dots: small enough not to hide the eyes they mark, ringed to show on any skin. */
const LANDMARK_DOT_PX = 6;

/**
 * The classes of an answer in the model's order (the API sends probabilities in that order).
 *
 * @param {Face} face
 * @returns {string[]}
 */
function classesOf(face) {
  return Object.keys(face.probabilities);
}

/**
 * Draws the boxes of `response` into `overlay`, positioned in percent of the picture so that they
 * follow it when it is resized. `mirrored` flips them horizontally (a mirrored camera preview).
 *
 * @param {HTMLElement} overlay
 * @param {PredictResponse | null} response
 * @param {{ mirrored?: boolean }} [options]
 */
export function drawBoxes(overlay, response, options = {}) {
  if (!response) return replaceChildren(overlay);
  const { width, height } = response.image;
  const boxes = response.faces.map((face, index) => {
    const { left, top } = face.box;
    const x = options.mirrored ? width - left - face.box.width : left;
    const compact = face.box.width / width < COMPACT_WIDTH_SHARE;
    const box = h(
      'div',
      {
        class: compact ? 'face-box face-box--compact' : 'face-box',
        dataset: { face: String(index), ...(compact ? { compact: 'always' } : {}) },
      },
      h(
        'span',
        { class: 'face-box__tag' },
        h('span', { class: 'face-number', text: index + 1 }),
        h('span', {
          class: 'face-box__label',
          text: `${face.label} ${percent(face.probabilities[face.label] ?? 0, 0)}`,
        }),
      ),
    );
    setStyle(box, {
      left: `${(x / width) * 100}%`,
      top: `${(top / height) * 100}%`,
      width: `${(face.box.width / width) * 100}%`,
      height: `${(face.box.height / height) * 100}%`,
      '--face-color': faceColor(index),
    });
    return box;
  });
  const dots = response.faces.flatMap((face, index) => landmarkDots(face, index, response.image, options));
  replaceChildren(overlay, ...boxes, ...dots);
  // Where each tag goes depends on the displayed size of the picture and of the tags.
  keepTagsApart(overlay);
}

/**
 * One small dot per landmark of a face (eyes, nose, mouth, ears), in the face's colour, positioned
 * like the boxes. Decorative: the boxes and cards carry the information.
 *
 * @param {Face} face
 * @param {number} index
 * @param {{ width: number, height: number }} image
 * @param {{ mirrored?: boolean }} options
 * @returns {HTMLElement[]}
 */
function landmarkDots(face, index, image, options) {
  return Object.values(face.landmarks ?? {}).map((point) => {
    const x = options.mirrored ? image.width - point.x : point.x;
    const dot = h('span', { class: 'face-landmark', 'aria-hidden': 'true' });
    setStyle(dot, {
      position: 'absolute',
      left: `${(x / image.width) * 100}%`,
      top: `${(point.y / image.height) * 100}%`,
      width: `${LANDMARK_DOT_PX}px`,
      height: `${LANDMARK_DOT_PX}px`,
      marginLeft: `${-LANDMARK_DOT_PX / 2}px`,
      marginTop: `${-LANDMARK_DOT_PX / 2}px`,
      borderRadius: '50%',
      background: faceColor(index),
      boxShadow: '0 0 0 1px rgb(0 0 0 / 60%)',
      pointerEvents: 'none',
    });
    return dot;
  });
}

/**
 * The probability bars of one face, in the model's class order, its top class emphasised.
 *
 * @param {Face} face
 * @param {string} name accessible name of the list
 * @returns {HTMLUListElement}
 */
export function probabilityBars(face, name) {
  return h(
    'ul',
    { class: 'bars', 'aria-label': name },
    classesOf(face).map((label) => {
      const p = face.probabilities[label];
      const fill = h('span', { class: 'bar__fill' });
      setStyle(fill, {
        width: `${Math.max(0, Math.min(1, p)) * 100}%`,
        '--bar-color': expressionColor(label),
      });
      return h(
        'li',
        { class: `bar${label === face.label ? ' bar--top' : ''}`, dataset: { label } },
        h('span', { class: 'bar__name', text: label }),
        h('span', { class: 'bar__track', 'aria-hidden': 'true' }, fill),
        h('span', { class: 'bar__value', text: percent(p) }),
      );
    }),
  );
}

/**
 * @param {Face} face
 * @param {number} index
 * @returns {HTMLLIElement}
 */
function faceCard(face, index) {
  const card = h(
    'li',
    { class: 'face-card', dataset: { face: String(index) } },
    h(
      'div',
      { class: 'face-card__header' },
      h('span', { class: 'face-number', 'aria-hidden': 'true', text: index + 1 }),
      h('h3', { class: 'face-card__title', text: `Face ${index + 1}` }),
      h(
        'p',
        { class: 'face-card__top' },
        h('span', { class: 'face-card__label', text: face.label }),
        h('span', {
          class: 'face-card__confidence',
          text: `${percent(face.probabilities[face.label] ?? 0)} likely`,
        }),
      ),
    ),
    probabilityBars(face, `Expression probabilities of face ${index + 1}`),
    h(
      'p',
      { class: 'face-card__meta' },
      face.detection_score === null
        ? 'Whole image classified as one face'
        : `Face detector confidence ${percent(face.detection_score, 0)} · ${face.box.width} × ${face.box.height} px at (${face.box.left}, ${face.box.top})`,
    ),
  );
  setStyle(card, { '--face-color': faceColor(index) });
  return card;
}

/**
 * @param {import('./types.js').Timings} timings
 * @param {number | null} roundTripMs
 * @param {boolean} open
 */
function timingDetails(timings, roundTripMs, open) {
  /** @type {[string, number][]} */
  const rows = [
    ['Decode', timings.decode],
    ['Face detection', timings.detect],
    ['Preprocess', timings.preprocess],
    ['Queue', timings.queue],
    ['Inference', timings.inference],
    ['Service total', timings.total],
  ];
  if (roundTripMs !== null) rows.push(['Round trip', roundTripMs]);
  return h(
    'details',
    { class: 'timings', open },
    h('summary', { text: 'Where the time went' }),
    h(
      'dl',
      {},
      rows.map(([name, ms]) => h('div', {}, h('dt', { text: name }), h('dd', { text: milliseconds(ms) }))),
    ),
  );
}

/**
 * Renders the results panel for one answer.
 *
 * @param {HTMLElement} container
 * @param {PredictResponse} response
 * @param {{
 *   roundTripMs: number | null,
 *   wholeImage: boolean,
 *   onClassifyWholeImage?: () => void,
 *   onHighlight?: (index: number | null) => void,
 * }} options
 */
export function renderResults(container, response, options) {
  const n = response.faces.length;
  // Camera mode re-renders every frame: keep the timing details open when the person opened them.
  const timingsOpen = container.querySelector('details.timings')?.hasAttribute('open') ?? false;
  if (n === 0) {
    replaceChildren(
      container,
      h(
        'div',
        { class: 'no-faces', id: 'no-faces' },
        h('p', { class: 'no-faces__title', text: 'No face found' }),
        h('p', {
          text: 'The face detector found no face in this picture. Small, blurred or sideways faces are often missed.',
        }),
        options.onClassifyWholeImage
          ? h('button', {
              type: 'button',
              class: 'button button--small',
              text: 'Classify the whole image as one face',
              onclick: options.onClassifyWholeImage,
            })
          : null,
      ),
    );
    return;
  }
  const list = h(
    'ol',
    { class: 'face-list', 'aria-label': 'Faces' },
    response.faces.map((face, index) => faceCard(face, index)),
  );
  if (options.onHighlight) {
    const highlight = options.onHighlight;
    /** @param {Event} event */
    const target = (event) => {
      const card = /** @type {HTMLElement | null} */ (
        event.target instanceof Element ? event.target.closest('.face-card') : null
      );
      return card ? Number(card.dataset.face) : null;
    };
    list.addEventListener('mouseover', (event) => highlight(target(event)));
    list.addEventListener('focusin', (event) => highlight(target(event)));
    list.addEventListener('mouseleave', () => highlight(null));
    list.addEventListener('focusout', () => highlight(null));
  }
  const what = options.wholeImage ? 'Whole image as one face' : `${n} ${n === 1 ? 'face' : 'faces'} found`;
  replaceChildren(
    container,
    h(
      'div',
      { class: 'summary' },
      h('p', { class: 'summary__count', id: 'face-count', text: what }),
      timingDetails(response.timings_ms, options.roundTripMs, timingsOpen),
    ),
    list,
  );
}

/**
 * Marks face `index` (or none) in the overlay and the card list.
 *
 * @param {ParentNode[]} roots
 * @param {number | null} index
 */
export function highlightFace(roots, index) {
  for (const root of roots) {
    for (const element of root.querySelectorAll('[data-face]')) {
      const on = index !== null && element instanceof HTMLElement && element.dataset.face === String(index);
      element.classList.toggle(
        element.classList.contains('face-box') ? 'face-box--highlight' : 'face-card--highlight',
        on,
      );
    }
  }
}

/**
 * One line for screen readers: what the faces show.
 *
 * @param {PredictResponse} response
 * @returns {string}
 * @example spokenSummary(r) // 'Face 1: Happy, 82%. Face 2: Neutral, 64%.'
 */
export function spokenSummary(response) {
  if (response.faces.length === 0) return 'No face found.';
  return response.faces
    .map((f, i) => `Face ${i + 1}: ${f.label}, ${percent(f.probabilities[f.label] ?? 0, 0)}.`)
    .join(' ');
}
