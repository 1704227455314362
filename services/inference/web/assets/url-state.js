/**
 * What the address bar remembers: the view (try, models, one model card) and the chosen model and
 * version, so a reload or a shared link shows the same thing.
 */

/** @typedef {'try' | 'models' | 'card'} View */
/** @typedef {{ view: View, model: string | null, version: number | null }} PageState */

const VIEWS = /** @type {const} */ (['try', 'models', 'card']);
const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const VERSION = /^[1-9][0-9]{0,8}$/;

/**
 * Reads the state from a query string; anything malformed is dropped.
 *
 * @param {string} search e.g. location.search
 * @returns {PageState}
 * @example parseState('?view=card&model=resnet152&version=3') // { view: 'card', model: 'resnet152', version: 3 }
 */
export function parseState(search) {
  const params = new URLSearchParams(search);
  const view = /** @type {View} */ (VIEWS.find((v) => v === params.get('view')) ?? 'try');
  const modelParam = params.get('model');
  const model = modelParam !== null && MODEL_NAME.test(modelParam) ? modelParam : null;
  const versionParam = params.get('version');
  const version =
    model !== null && versionParam !== null && VERSION.test(versionParam) ? Number(versionParam) : null;
  return { view: view === 'card' && model === null ? 'models' : view, model, version };
}

/**
 * The query string of a state ('' for the plain page).
 *
 * @param {PageState} state
 * @returns {string}
 * @example stateToSearch({ view: 'try', model: 'resnet152', version: null }) // '?model=resnet152'
 */
export function stateToSearch(state) {
  const params = new URLSearchParams();
  if (state.view !== 'try') params.set('view', state.view);
  if (state.model !== null) params.set('model', state.model);
  if (state.model !== null && state.version !== null) params.set('version', String(state.version));
  const search = params.toString();
  return search ? `?${search}` : '';
}

/**
 * Writes `state` into the address bar: a new history entry when the view changes (so Back
 * works), a replaced one otherwise.
 *
 * @param {PageState} state
 * @param {PageState} previous
 */
export function writeState(state, previous) {
  const url = `${location.pathname}${stateToSearch(state)}${location.hash}`;
  if (url === `${location.pathname}${location.search}${location.hash}`) return;
  if (state.view !== previous.view || (state.view === 'card' && state.model !== previous.model))
    history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}
