/**
 * The "Try it" view: a photo (file picker, drag and drop, paste) or the live camera goes to
 * POST /predict with the chosen model and options; the answer is drawn over the picture and as a
 * card per face. Owns the view's elements; the page (main.js) owns the model list and the URL.
 */
import { ApiError } from './api.js';
import { CameraSession } from './camera.js';
import { byId, replaceChildren } from './dom.js';
import { drawBoxes, highlightFace, renderResults, spokenSummary } from './face-results.js';
import { fileSize, milliseconds } from './format.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./notices.js').Notices} Notices */
/** @typedef {import('./model-picker.js').Selection} Selection */
/** @typedef {import('./types.js').PredictResponse} PredictResponse */

export class TryView {
  /**
   * @param {{ api: Api, notices: Notices, selection: () => Selection }} deps
   */
  constructor({ api, notices, selection }) {
    this.api = api;
    this.notices = notices;
    this.selection = selection;
    /** @type {File | null} */
    this.file = null;
    /** @type {string | null} */
    this.objectUrl = null;
    /** @type {AbortController | null} */
    this.request = null;
    /** Top labels of the last camera answer, to announce changes only. */
    this.lastLabels = '';

    this.dropzone = byId('dropzone');
    this.fileInput = byId('file-input', HTMLInputElement);
    this.dropzoneEmpty = byId('dropzone-empty');
    this.photoStage = byId('photo-stage');
    this.photoImage = byId('photo-image', HTMLImageElement);
    this.photoNoPreview = byId('photo-no-preview');
    this.photoOverlay = byId('photo-overlay');
    this.photoBusy = byId('photo-busy');
    this.photoCaption = byId('photo-caption');
    this.photoActions = byId('photo-actions');
    this.sourcePhoto = byId('source-photo');
    this.sourceCamera = byId('source-camera');
    this.cameraToggle = byId('camera-toggle', HTMLButtonElement);
    this.cameraVideo = byId('camera-video', HTMLVideoElement);
    this.cameraOverlay = byId('camera-overlay');
    this.cameraIdle = byId('camera-idle');
    this.cameraStats = byId('camera-stats');
    this.cameraCaption = byId('camera-caption');
    this.results = byId('results');
    this.placeholder = byId('results-placeholder');
    this.answeredBy = byId('answered-by');
    this.liveSummary = byId('live-summary');
    this.optDetect = byId('opt-detect', HTMLInputElement);
    this.optLargest = byId('opt-largest', HTMLInputElement);
    this.chooseButtons = [byId('choose-file', HTMLButtonElement), byId('choose-another', HTMLButtonElement)];

    this.camera = new CameraSession(this.cameraVideo, {
      send: (frame, signal) => this.api.predict(frame, this.query(), { signal, retry: false }),
      onAnswer: (response, stats) => this.showCameraAnswer(response, stats),
      onBusy: (error, waitMs) =>
        this.notices.showStatus(
          `The service is busy (${error.code}); the next frame goes in ${Math.max(1, Math.round(waitMs / 1000))} s.`,
          'busy',
        ),
      onStop: (error) => {
        this.cameraStopped();
        this.notices.clearStatus();
        this.notices.showError(error instanceof ApiError ? error : { message: String(error) });
      },
    });
    this.wire();
  }

  wire() {
    for (const button of this.chooseButtons) button.addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files?.[0];
      if (file) void this.analyse(file);
      this.fileInput.value = '';
    });

    // Drag and drop onto the zone; a file dropped elsewhere on the page must not replace the page.
    let depth = 0;
    this.dropzone.addEventListener('dragenter', (event) => {
      event.preventDefault();
      depth++;
      this.dropzone.classList.add('dropzone--dragging');
    });
    this.dropzone.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) this.dropzone.classList.remove('dropzone--dragging');
    });
    this.dropzone.addEventListener('dragover', (event) => {
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    });
    this.dropzone.addEventListener('drop', (event) => {
      event.preventDefault();
      depth = 0;
      this.dropzone.classList.remove('dropzone--dragging');
      if (this.dropzone.classList.contains('dropzone--disabled')) return;
      const file = event.dataTransfer?.files[0];
      if (file) void this.analyse(file);
      else this.notices.showError({ message: 'Drop an image file from your computer.' });
    });
    for (const type of ['dragover', 'drop']) window.addEventListener(type, (event) => event.preventDefault());

    document.addEventListener('paste', (event) => {
      if (this.sourcePhoto.hidden || byId('view-try').hidden) return;
      const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (file) void this.analyse(file);
    });

    // A file the browser cannot draw (often one the API will refuse too): a note instead of the
    // broken-image icon, which would sit over the error text.
    this.photoImage.addEventListener('error', () => {
      if (!this.photoImage.getAttribute('src')) return;
      this.photoImage.hidden = true;
      this.photoNoPreview.hidden = false;
      this.photoCaption.textContent = `${this.describeFile()} · no preview`;
    });

    for (const radio of document.querySelectorAll('input[name="source"]')) {
      radio.addEventListener('change', () => this.showSource(/** @type {HTMLInputElement} */ (radio).value));
    }
    this.cameraToggle.addEventListener('click', () => void this.toggleCamera());
    this.optDetect.addEventListener('change', () => this.refresh());
    this.optLargest.addEventListener('change', () => this.refresh());
  }

  /** The /predict query for the current model and options. */
  query() {
    const query = new URLSearchParams();
    const { model, version } = this.selection();
    if (model !== null) query.set('model', model);
    if (model !== null && version !== null) query.set('version', String(version));
    if (!this.optDetect.checked) query.set('crop', 'none');
    if (this.optLargest.checked) query.set('faces', 'largest');
    return query;
  }

  describeFile() {
    return this.file ? `${this.file.name || 'Pasted image'} · ${fileSize(this.file.size)}` : '';
  }

  /**
   * Shows `file` and sends it.
   *
   * @param {File} file
   */
  async analyse(file) {
    this.file = file;
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = URL.createObjectURL(file);
    drawBoxes(this.photoOverlay, null);
    this.photoImage.hidden = false;
    this.photoNoPreview.hidden = true;
    this.photoImage.src = this.objectUrl;
    this.photoImage.alt = `The photo you chose: ${file.name || 'pasted image'}`;
    this.photoCaption.textContent = this.describeFile();
    this.dropzoneEmpty.hidden = true;
    this.photoStage.hidden = false;
    this.photoActions.hidden = false;
    this.dropzone.classList.add('dropzone--has-image');
    await this.run();
  }

  /** Sends the current photo again (after a model or option change). */
  refresh() {
    if (this.camera.running || !this.file || this.sourcePhoto.hidden) return;
    void this.run();
  }

  async run() {
    const file = this.file;
    if (!file) return;
    this.request?.abort();
    const controller = new AbortController();
    this.request = controller;
    this.notices.clearError();
    this.notices.showStatus('Analysing the photo…');
    this.photoBusy.hidden = false;
    const form = new FormData();
    form.append('image', file, file.name || 'image');
    const started = performance.now();
    try {
      const response = await this.api.predict(form, this.query(), {
        signal: controller.signal,
        onRetry: ({ attempt, maxAttempts, delayMs, error }) =>
          this.notices.showStatus(
            `The service is busy (${error.code}). Trying again in ${Math.max(1, Math.round(delayMs / 1000))} s, attempt ${attempt} of ${maxAttempts}…`,
            'busy',
          ),
      });
      if (controller.signal.aborted) return;
      this.notices.clearStatus();
      this.show(response, performance.now() - started, this.photoOverlay, false);
      this.say(spokenSummary(response));
    } catch (error) {
      if (controller.signal.aborted) return;
      this.notices.clearStatus();
      drawBoxes(this.photoOverlay, null);
      this.clearResults();
      this.notices.showError(error instanceof ApiError ? error : { message: String(error) });
    } finally {
      if (this.request === controller) {
        this.request = null;
        this.photoBusy.hidden = true;
      }
    }
  }

  /**
   * @param {PredictResponse} response
   * @param {number | null} roundTripMs
   * @param {HTMLElement} overlay
   * @param {boolean} mirrored
   */
  show(response, roundTripMs, overlay, mirrored) {
    drawBoxes(overlay, response, { mirrored });
    this.placeholder.hidden = true;
    const wholeImage = !this.optDetect.checked;
    renderResults(this.results, response, {
      roundTripMs,
      wholeImage,
      onClassifyWholeImage: wholeImage
        ? undefined
        : () => {
            this.optDetect.checked = false;
            this.refresh();
          },
      onHighlight: (index) => highlightFace([overlay, this.results], index),
    });
    const latency = roundTripMs === null ? '' : ` in ${milliseconds(roundTripMs)}`;
    this.answeredBy.textContent = `Answered by ${response.model.name} v${response.model.version}${latency}`;
  }

  clearResults() {
    replaceChildren(this.results, this.placeholder);
    this.placeholder.hidden = false;
    this.answeredBy.textContent = '';
  }

  /** @param {string} text */
  say(text) {
    this.liveSummary.textContent = text;
  }

  /** @param {string} source 'photo' or 'camera' */
  showSource(source) {
    const camera = source === 'camera';
    this.sourcePhoto.hidden = camera;
    this.sourceCamera.hidden = !camera;
    this.notices.clearError();
    this.notices.clearStatus();
    this.request?.abort();
    this.photoBusy.hidden = true;
    this.clearResults();
    if (!camera) {
      this.stopCamera();
      if (this.file) void this.run();
    }
  }

  async toggleCamera() {
    if (this.camera.running) return this.stopCamera();
    this.notices.clearError();
    this.cameraToggle.disabled = true;
    this.notices.showStatus('Starting the camera…');
    try {
      await this.camera.start();
      this.cameraIdle.hidden = true;
      this.cameraToggle.textContent = 'Stop camera';
      this.cameraToggle.classList.replace('button--primary', 'button--danger');
      this.cameraStats.textContent = 'Live: waiting for the first answer…';
      this.notices.clearStatus();
    } catch (error) {
      this.notices.clearStatus();
      this.notices.showError({
        code: 'CAMERA',
        message: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.cameraToggle.disabled = false;
    }
  }

  stopCamera() {
    if (!this.camera.running) return;
    this.camera.stop();
    this.cameraStopped();
    this.notices.clearStatus();
  }

  cameraStopped() {
    this.cameraIdle.hidden = false;
    this.cameraToggle.textContent = 'Start camera';
    this.cameraToggle.classList.replace('button--danger', 'button--primary');
    this.cameraStats.textContent = '';
    drawBoxes(this.cameraOverlay, null);
  }

  /**
   * @param {PredictResponse} response
   * @param {{ framesPerSecond: number | null, roundTripMs: number }} stats
   */
  showCameraAnswer(response, stats) {
    this.notices.clearStatus();
    this.notices.clearError();
    this.show(response, stats.roundTripMs, this.cameraOverlay, true);
    const rate = stats.framesPerSecond === null ? '' : ` · ${stats.framesPerSecond.toFixed(1)} frames/s`;
    this.cameraStats.textContent = `Live${rate} · ${milliseconds(stats.roundTripMs)} per answer`;
    // Screen readers hear a change of expression, not every frame.
    const labels = response.faces.map((face) => face.label).join(',');
    if (labels !== this.lastLabels) {
      this.lastLabels = labels;
      this.say(spokenSummary(response));
    }
  }

  /**
   * Enables the inputs only while some model can answer.
   *
   * @param {boolean} ready
   */
  setReady(ready) {
    for (const button of this.chooseButtons) button.disabled = !ready;
    if (!this.camera.running) this.cameraToggle.disabled = !ready;
    this.dropzone.classList.toggle('dropzone--disabled', !ready);
  }

  /** Called when the view is left: the camera never runs unseen. */
  leave() {
    this.stopCamera();
  }
}
