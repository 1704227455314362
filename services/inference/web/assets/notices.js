/**
 * The results panel's two message slots: a polite status line (progress, "busy, retrying") and an
 * alert for errors, which always shows the API's own message as text.
 */
import { byId, h, replaceChildren } from './dom.js';

/** A heading for each API error code; the API's message follows it verbatim. */
const TITLES = /** @type {Readonly<Record<string, string>>} */ (
  Object.freeze({
    UNDECODABLE_IMAGE: 'This file could not be read as an image',
    UNSUPPORTED_MEDIA_TYPE: 'This file type is not supported',
    PAYLOAD_TOO_LARGE: 'This file is too large',
    IMAGE_TOO_LARGE: 'This image has too many pixels',
    INVALID_REQUEST: 'The request was not valid',
    MODEL_NOT_FOUND: 'This model is not available',
    OVERLOADED: 'The service is busy',
    NOT_READY: 'The service is not ready',
    RATE_LIMITED: 'Too many requests',
    TIMEOUT: 'The service took too long',
    UNAUTHORIZED: 'An API key is needed',
    NETWORK: 'The service cannot be reached',
    CAMERA: 'The camera could not start',
  })
);

/**
 * @param {{ code?: string, message: string }} error
 * @returns {string}
 */
export function errorTitle(error) {
  return (error.code && Object.hasOwn(TITLES, error.code) && TITLES[error.code]) || 'Something went wrong';
}

export class Notices {
  constructor() {
    this.status = byId('status');
    this.alert = byId('error');
  }

  /**
   * @param {string} text
   * @param {'info' | 'busy'} [kind]
   */
  showStatus(text, kind = 'info') {
    this.status.classList.toggle('status--busy', kind === 'busy');
    replaceChildren(
      this.status,
      kind === 'busy' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
      text,
    );
  }

  clearStatus() {
    this.status.classList.remove('status--busy');
    replaceChildren(this.status);
  }

  /** @param {{ code?: string, message: string }} error */
  showError(error) {
    replaceChildren(
      this.alert,
      h(
        'div',
        {},
        h('p', { class: 'alert__title', text: errorTitle(error) }),
        h('p', { class: 'alert__message', text: error.message }),
        error.code ? h('p', { class: 'alert__code', text: error.code }) : null,
      ),
    );
    this.alert.hidden = false;
  }

  clearError() {
    this.alert.hidden = true;
    replaceChildren(this.alert);
  }
}
