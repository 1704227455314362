/**
 * The colour of each expression in bars and chips. The labels themselves always come from the API
 * (a response's probabilities, a model's metadata.classes); an unknown label gets a neutral grey.
 */

/** @type {Readonly<Record<string, string>>} */
const COLORS = Object.freeze({
  Angry: 'var(--expr-angry)',
  Fear: 'var(--expr-fear)',
  Happy: 'var(--expr-happy)',
  Neutral: 'var(--expr-neutral)',
  Sad: 'var(--expr-sad)',
  Surprise: 'var(--expr-surprise)',
});

/**
 * @param {string} label
 * @example expressionColor('Happy') // 'var(--expr-happy)'
 */
export function expressionColor(label) {
  return Object.hasOwn(COLORS, label) ? COLORS[label] : 'var(--expr-other)';
}

/** Box and card colours of faces 1, 2, 3...: bright, told apart, and also numbered in the UI. */
const FACE_COLORS = ['#ff5c8a', '#3ddc97', '#4da3ff', '#ffc23d', '#b58cff', '#3fd6e8', '#ff8c42', '#e5e7eb'];

/**
 * @param {number} index zero-based face index
 * @example faceColor(0) // '#ff5c8a'
 */
export function faceColor(index) {
  return FACE_COLORS[index % FACE_COLORS.length];
}

/** Colours of models in comparison charts (in model order). */
const MODEL_COLORS = ['#4f46e5', '#e8590c', '#0f9f6e', '#c2255c', '#1c7ed6', '#7048e8'];

/**
 * @param {number} index
 * @example modelColor(1) // '#e8590c'
 */
export function modelColor(index) {
  return MODEL_COLORS[index % MODEL_COLORS.length];
}
