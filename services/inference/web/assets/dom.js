/**
 * Building DOM nodes from data without innerHTML: every string the API returns (model names, error
 * messages, file names) becomes text, never markup.
 */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Child | ReadonlyArray<Child | ReadonlyArray<Child | ReadonlyArray<Child>>>} Children nested lists (three levels) are flattened
 * @typedef {Record<string, unknown>} Props
 */

/**
 * Creates an element. Props: `class`, `text`, `style` (an object of custom properties or style
 * properties, set through CSSOM so the page's CSP needs no 'unsafe-inline'), `on<Event>` listeners,
 * `dataset`, booleans (`hidden`, `disabled`...), and everything else as attributes.
 *
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 * @example h('p', { class: 'note' }, 'No faces found')
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  applyProps(element, props);
  append(element, children);
  return element;
}

/**
 * An SVG element (icons, small charts).
 *
 * @param {string} tag
 * @param {Record<string, string | number>} [attributes]
 * @param {...Children} children
 * @returns {SVGElement}
 * @example svg('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true' }, svg('path', { d: 'M0 0h24' }))
 */
export function svg(tag, attributes = {}, ...children) {
  const element = /** @type {SVGElement} */ (document.createElementNS('http://www.w3.org/2000/svg', tag));
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  append(element, children);
  return element;
}

/**
 * @param {Element} element
 * @param {ReadonlyArray<Children>} children
 */
function append(element, children) {
  for (const child of /** @type {Child[]} */ (children.flat(Infinity))) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * @param {HTMLElement} element
 * @param {Props} props
 */
function applyProps(element, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = String(value);
    else if (name === 'text') element.textContent = String(value);
    else if (name === 'style') setStyle(element, /** @type {Record<string, string>} */ (value));
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function')
      element.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
}

/**
 * Sets style properties through CSSOM (allowed by a CSP without 'unsafe-inline'); names starting
 * with `--` are custom properties.
 *
 * @param {HTMLElement} element
 * @param {Record<string, string>} styles
 * @example setStyle(bar, { width: '42%', '--bar-color': 'var(--expr-happy)' })
 */
export function setStyle(element, styles) {
  for (const [name, value] of Object.entries(styles)) {
    if (name.startsWith('--')) element.style.setProperty(name, value);
    else
      element.style.setProperty(
        name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
        value,
      );
  }
}

/**
 * Replaces the children of `element`.
 *
 * @param {Element} element
 * @param {...Children} children
 */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/**
 * The element with this id; throws when the page lacks it (a mistake in index.html, not a state).
 *
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} [type] the expected element class
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no element #${id}`);
  if (type && !(element instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return /** @type {T} */ (element);
}
