/**
 * Where each face box's tag (its number and top expression) goes, so that no tag covers another:
 * with several faces side by side (a group photo, a phone screen), tags above neighbouring boxes
 * run into each other. Tags are placed in face order (largest face first), each at the first spot
 * around its box that stays inside the picture and clear of the tags already placed (and, if it
 * can, of the other faces), shrinking to its number (the card has the rest) when the whole tag
 * fits nowhere. Tags have a fixed size in CSS pixels while the picture scales, so the layout is
 * redone whenever the overlay changes size.
 */

/** @typedef {{ left: number, top: number, right: number, bottom: number }} Rect */

/** The tag spots around a box, in order of preference: the modifier classes that select them. */
const SPOTS = /** @type {const} */ ([
  [],
  ['face-box--tag-right'],
  ['face-box--tag-below'],
  ['face-box--tag-below', 'face-box--tag-right'],
  ['face-box--tag-inside'],
]);
const SPOT_CLASSES = [...new Set(SPOTS.flat())];
const COMPACT = 'face-box--compact';
/** Tags closer than this (CSS pixels) count as touching. */
const GAP_PX = 2;

/**
 * @param {Rect} a
 * @param {Rect} b
 */
function overlaps(a, b) {
  return (
    a.left < b.right + GAP_PX &&
    b.left < a.right + GAP_PX &&
    a.top < b.bottom + GAP_PX &&
    b.top < a.bottom + GAP_PX
  );
}

/**
 * The first candidate that lies inside `frame` and clear of every rectangle in `taken`; failing
 * that, the first inside the frame that is clear of `taken`, ignoring `avoid`; else null. `avoid`
 * (other faces' boxes) is only a preference: covering a face is better than covering its number.
 *
 * @param {Rect[]} candidates
 * @param {Rect[]} taken
 * @param {Rect[]} avoid
 * @param {Rect} frame
 * @returns {number | null} the chosen candidate's index
 * @example chooseSpot([{ left: 0, top: 0, right: 10, bottom: 10 }], [], [], { left: 0, top: 0, right: 100, bottom: 100 }) // 0
 */
export function chooseSpot(candidates, taken, avoid, frame) {
  const inside = (/** @type {Rect} */ r) =>
    r.left >= frame.left && r.top >= frame.top && r.right <= frame.right && r.bottom <= frame.bottom;
  const clear = (/** @type {Rect} */ r, /** @type {Rect[]} */ others) => !others.some((o) => overlaps(r, o));
  const best = candidates.findIndex((r) => inside(r) && clear(r, taken) && clear(r, avoid));
  if (best >= 0) return best;
  const fallback = candidates.findIndex((r) => inside(r) && clear(r, taken));
  return fallback >= 0 ? fallback : null;
}

/**
 * @param {Element} element
 * @param {DOMRect} origin
 * @returns {Rect}
 */
function rectIn(element, origin) {
  const r = element.getBoundingClientRect();
  return {
    left: r.left - origin.left,
    top: r.top - origin.top,
    right: r.right - origin.left,
    bottom: r.bottom - origin.top,
  };
}

/**
 * Places the tags of the face boxes in `overlay` (see the file comment). Boxes that start out
 * compact (too narrow for their label) stay compact.
 *
 * @param {HTMLElement} overlay
 */
export function layoutTags(overlay) {
  const boxes = /** @type {HTMLElement[]} */ ([...overlay.querySelectorAll('.face-box')]);
  if (boxes.length === 0) return;
  const origin = overlay.getBoundingClientRect();
  const frame = { left: 0, top: 0, right: origin.width, bottom: origin.height };
  if (frame.right === 0 || frame.bottom === 0) return; // not displayed: laid out when it is
  for (const box of boxes) {
    box.classList.remove(...SPOT_CLASSES);
    if (box.dataset.compact !== 'always') box.classList.remove(COMPACT);
  }
  const faceRects = boxes.map((box) => rectIn(box, origin));
  /** @type {Rect[]} */
  const taken = [];
  boxes.forEach((box, index) => {
    const tag = box.querySelector('.face-box__tag');
    if (!tag) return;
    const others = faceRects.filter((_, i) => i !== index);
    // Every spot with the whole tag, then every spot with the number alone.
    const variants = (box.dataset.compact === 'always' ? [true] : [false, true]).flatMap((compact) =>
      SPOTS.map((spot) => ({ compact, spot })),
    );
    const place = (/** @type {{ compact: boolean, spot: readonly string[] }} */ variant) => {
      box.classList.remove(...SPOT_CLASSES);
      box.classList.add(...variant.spot);
      box.classList.toggle(COMPACT, variant.compact);
    };
    const candidates = variants.map((variant) => {
      place(variant);
      return rectIn(tag, origin);
    });
    // Nowhere clear at all (more tags than room): the number alone, in the usual spot.
    const chosen = chooseSpot(candidates, taken, others, frame) ?? variants.findIndex((v) => v.compact);
    place(variants[chosen]);
    taken.push(candidates[chosen]);
  });
}

/** @type {WeakSet<HTMLElement>} */
const observed = new WeakSet();

/**
 * Lays the tags out now and again whenever `overlay` changes size (the picture scales with the
 * window; the tags do not).
 *
 * @param {HTMLElement} overlay
 */
export function keepTagsApart(overlay) {
  layoutTags(overlay);
  if (observed.has(overlay) || typeof ResizeObserver === 'undefined') return;
  observed.add(overlay);
  new ResizeObserver(() => layoutTags(overlay)).observe(overlay);
}
