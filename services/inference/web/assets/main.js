/**
 * The page's entry point: loads the model list (and keeps it fresh, so a newly published model
 * shows up without a reload), keeps the address bar and the views in step (Try it, Models, one
 * model card), and asks for an API key when the service wants one.
 */
import { Api } from './api.js';
import { byId } from './dom.js';
import { renderModelCard } from './model-card.js';
import { ModelPicker, selectionExists } from './model-picker.js';
import { renderModelsOverview } from './models-view.js';
import { Notices } from './notices.js';
import { BlobUrls } from './report-files.js';
import { TryView } from './try-view.js';
import { parseState, writeState } from './url-state.js';

/** @typedef {import('./types.js').ModelList} ModelList */
/** @typedef {import('./url-state.js').PageState} PageState */

/** While nothing can serve yet (or a version is loading), the list is checked this often. */
const POLL_WAITING_MS = 3000;
/** Otherwise, now and then, for newly published versions. */
const POLL_SERVING_MS = 30_000;

const VIEW_TITLES = { try: 'Try it', models: 'Models', card: 'Model card' };

class Page {
  constructor() {
    this.api = new Api({ askForKey: () => this.askForKey() });
    this.notices = new Notices();
    /** @type {PageState} */
    this.state = parseState(location.search);
    /** @type {ModelList | null} */
    this.list = null;
    this.listJson = '';
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.pollTimer = null;
    this.blobUrls = new BlobUrls();
    /** Bumped by every render of the models or card view, so a slow earlier render does not win. */
    this.renderToken = 0;
    this.picker = new ModelPicker(byId('model-select', HTMLSelectElement), (selection) => {
      this.setState({ ...this.state, ...selection });
      this.tryView.refresh();
      if (this.state.view === 'card') void this.renderView();
    });
    this.tryView = new TryView({
      api: this.api,
      notices: this.notices,
      selection: () => ({ model: this.state.model, version: this.state.version }),
    });
    this.tryView.setReady(false);
  }

  async start() {
    document.addEventListener('click', (event) => this.onClick(event));
    window.addEventListener('popstate', () => {
      this.state = parseState(location.search);
      this.applyView(false);
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.pollTimer === null) void this.refreshModels();
    });
    this.applyView(false);
    await this.refreshModels();
  }

  /**
   * Same-page links (href="?...") change the view without reloading.
   *
   * @param {MouseEvent} event
   */
  onClick(event) {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    const link = event.target instanceof Element ? event.target.closest('a') : null;
    const href = link?.getAttribute('href');
    if (!link || !href || !href.startsWith('?') || link.target) return;
    event.preventDefault();
    const next = parseState(href);
    // Links that name no model (the section links) keep the model chosen in the picker.
    if (!new URLSearchParams(href).has('model') && next.view !== 'card') {
      next.model = this.state.model;
      next.version = this.state.version;
    }
    this.setState(next);
    this.applyView(true);
  }

  /** @param {PageState} next */
  setState(next) {
    writeState(next, this.state);
    this.state = next;
  }

  /** @param {boolean} moveFocus after a link, focus goes to the new view's content */
  applyView(moveFocus) {
    const view = this.state.view;
    for (const section of document.querySelectorAll('[data-view]')) {
      if (section instanceof HTMLElement) section.hidden = section.dataset.view !== view;
    }
    for (const link of document.querySelectorAll('[data-view-link]')) {
      const current =
        link instanceof HTMLElement &&
        (link.dataset.viewLink === view || (view === 'card' && link.dataset.viewLink === 'models'));
      if (current) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (view !== 'try') this.tryView.leave();
    document.title = `${view === 'card' && this.state.model ? `${this.state.model} · ` : ''}${VIEW_TITLES[view]} — FER demo`;
    if (this.list) this.picker.update(this.list, this.state);
    if (moveFocus) byId('main').focus({ preventScroll: false });
    if (view === 'try') this.tryView.refresh();
    void this.renderView();
  }

  async renderView() {
    const token = ++this.renderToken;
    if (!this.list || this.state.view === 'try') return;
    this.blobUrls.revokeAll();
    const list = this.list;
    if (this.state.view === 'models') {
      const container = byId('models-content');
      await renderModelsOverview(container, { api: this.api, list });
    } else if (this.state.model !== null) {
      const container = byId('card-content');
      await renderModelCard(container, {
        api: this.api,
        list,
        name: this.state.model,
        version: this.state.version,
        blobUrls: this.blobUrls,
        onSelectVersion: (version) => {
          if (token !== this.renderToken) return;
          this.setState({ ...this.state, version });
          if (this.list) this.picker.update(this.list, this.state);
          void this.renderView();
        },
      });
    }
  }

  /** Fetches GET /models, updates the picker, the banner and the open view, and plans the next check. */
  async refreshModels() {
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    /** @type {ModelList | null} */
    let list = null;
    try {
      list = await this.api.json('/models', { retry: false });
    } catch (error) {
      this.showBanner(
        'The service cannot list its models',
        error instanceof Error ? `${error.message} Trying again shortly.` : 'Trying again shortly.',
      );
    }
    if (list) this.receive(list);
    const waiting =
      !list ||
      !list.models.some((m) => m.default_version !== null) ||
      list.models.some((m) => m.versions.some((v) => v.status === 'loading'));
    if (!document.hidden)
      this.pollTimer = setTimeout(
        () => void this.refreshModels(),
        waiting ? POLL_WAITING_MS : POLL_SERVING_MS,
      );
  }

  /** @param {ModelList} list */
  receive(list) {
    const json = JSON.stringify(list);
    const changed = json !== this.listJson;
    this.list = list;
    this.listJson = json;
    const ready = list.models.some((m) => m.default_version !== null);
    if (!ready) {
      const loading = list.models.some((m) => m.versions.some((v) => v.status === 'loading'));
      const failed = list.models.length > 0 && !loading;
      this.showBanner(
        loading ? 'A model is loading' : failed ? 'No model could be loaded' : 'No model is loaded yet',
        loading
          ? 'It can answer in a moment; this page notices on its own.'
          : failed
            ? 'Every version in the registry failed to load: the Models page lists their errors.'
            : 'Publish one into the registry this service reads (REGISTRY_DIR), for example with npm run train -- … --registry models; this page picks it up on its own, no reload needed.',
      );
    } else {
      byId('no-model-banner').hidden = true;
    }
    this.tryView.setReady(ready);
    if (this.state.view === 'try' && ready && !selectionExists(list, this.state)) {
      this.notices.showStatus(
        `The registry has no ${this.state.version === null ? `model “${this.state.model}”` : `version ${this.state.version} of “${this.state.model}”`}; the default model answers instead.`,
      );
      this.setState({ ...this.state, model: null, version: null });
    }
    this.picker.update(list, this.state);
    if (changed && this.state.view !== 'try') void this.renderView();
  }

  /**
   * @param {string} title
   * @param {string} text
   */
  showBanner(title, text) {
    const banner = byId('no-model-banner');
    const [titleElement] = banner.getElementsByClassName('banner__title');
    titleElement.textContent = title;
    byId('no-model-detail').textContent = text;
    banner.hidden = false;
  }

  /** @returns {Promise<string | null>} the key the person entered, or null when they cancelled */
  askForKey() {
    const dialog = byId('api-key-dialog', HTMLDialogElement);
    const input = byId('api-key-input', HTMLInputElement);
    if (dialog.open) return Promise.resolve(null);
    input.value = '';
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener(
        'close',
        () => resolve(dialog.returnValue === 'save' && input.value.trim() ? input.value.trim() : null),
        { once: true },
      );
    });
  }
}

void new Page().start();
