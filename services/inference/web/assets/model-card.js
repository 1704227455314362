/**
 * One model version's card: what it is (architecture, input, training run), how it did on the test
 * split (accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix, and how far its
 * probabilities can be trusted: ECE, NLL, Brier, per-class ECE, the temperature it was calibrated
 * with) from its metadata.json, and its training curves, reliability diagram and other report
 * files from the registry.
 */
import { ApiError } from './api.js';
import { confusionTable } from './confusion-matrix.js';
import { h, replaceChildren } from './dom.js';
import { expressionColor } from './expressions.js';
import { count, dateTime, duration, fileSize, percent } from './format.js';
import { firstReportFile, parseEpochLog, reportFiles, reportUrl } from './report-files.js';
import { stateToSearch } from './url-state.js';
import { cellBar, scrollable, tile } from './widgets.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./report-files.js').BlobUrls} BlobUrls */
/** @typedef {import('./types.js').ModelList} ModelList */
/** @typedef {import('./types.js').VersionDetail} VersionDetail */
/** @typedef {import('./types.js').ModelMetadata} ModelMetadata */
/** @typedef {import('./types.js').Metrics} Metrics */
/** @typedef {import('./types.js').EpochRecord} EpochRecord */
/**
 * metadata.metrics.calibration and metadata.calibration (openapi.yaml, ModelMetadata).
 *
 * @typedef {{ ece: number, nll: number, brier: number, per_class_ece: Record<string, number>, bins: number }} CalibrationMetrics
 * @typedef {{ ece: number, nll: number, brier: number }} CalibrationScore
 * @typedef {{
 *   applied_to: 'logits' | 'probabilities',
 *   temperature: number | Record<string, number>,
 *   bias?: Record<string, number>,
 *   fitted_on: { split: string, samples: number },
 *   validation: { before: CalibrationScore, after: CalibrationScore },
 *   source?: { name: string, version: number },
 * }} CalibrationInfo
 */

/**
 * @typedef {{
 *   api: Api,
 *   list: ModelList,
 *   name: string,
 *   version: number | null,
 *   blobUrls: BlobUrls,
 *   onSelectVersion: (version: number) => void,
 * }} CardOptions
 */

/**
 * @param {Metrics} metrics
 * @param {string[]} classes
 */
function perClassTable(metrics, classes) {
  return h(
    'table',
    { class: 'table', id: 'per-class-table' },
    h('caption', { text: `Precision, recall and F1 of each class on the ${metrics.split} split.` }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Class', 'Precision', 'Recall', 'F1', 'Images'].map((c) => h('th', { scope: 'col', text: c })),
      ),
    ),
    h(
      'tbody',
      {},
      classes.map((c) => {
        const m = metrics.per_class[c];
        if (!m)
          return h(
            'tr',
            {},
            h('th', { scope: 'row', text: c }),
            h('td', { colspan: '4', text: 'not evaluated' }),
          );
        return h(
          'tr',
          { dataset: { class: c } },
          h('th', { scope: 'row', text: c }),
          h('td', { text: percent(m.precision) }),
          h('td', { text: percent(m.recall) }),
          h('td', {}, cellBar(m.f1, expressionColor(c))),
          h('td', { text: count(m.support) }),
        );
      }),
    ),
  );
}

/**
 * @param {Metrics} metrics
 * @returns {CalibrationMetrics | null}
 */
function calibrationOf(metrics) {
  const value = /** @type {Metrics & { calibration?: CalibrationMetrics }} */ (metrics).calibration;
  return value ?? null;
}

/** @param {number | Record<string, number>} temperature */
function temperatureText(temperature) {
  return typeof temperature === 'number'
    ? temperature.toFixed(2)
    : Object.entries(temperature)
        .map(([c, t]) => `${c} ${t.toFixed(2)}`)
        .join(', ');
}

/** @param {Record<string, number>} bias */
function biasText(bias) {
  return Object.entries(bias)
    .map(([c, b]) => `${c} ${b >= 0 ? '+' : ''}${b.toFixed(2)}`)
    .join(', ');
}

/**
 * How far the probabilities can be taken at their word: the test split's calibration figures,
 * the temperature and its validation before/after, per-class ECE and the reliability diagram.
 *
 * @param {CardOptions} options
 * @param {ModelMetadata} metadata
 * @param {CalibrationMetrics | null} calibration
 * @param {string[]} classes
 * @param {string} label
 */
function calibrationSection(options, metadata, calibration, classes, label) {
  const info = /** @type {ModelMetadata & { calibration?: CalibrationInfo }} */ (metadata).calibration;
  const chart = firstReportFile(metadata, ['reliability.svg', 'reliability.png']);
  const figure = h('div', {});
  const section = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'calibration-title' },
    h('h2', { class: 'section-title', id: 'calibration-title', text: 'Calibration' }),
    h('p', {
      class: 'section-lead',
      text: 'Can the probabilities be taken at their word? Among the faces it gives 70%, a calibrated model is right about 70% of the time.',
    }),
  );
  if (!calibration) {
    section.append(
      h('p', {
        class: 'note',
        id: 'card-no-calibration',
        text: 'This version was published before calibration was measured.',
      }),
    );
    return section;
  }
  section.append(
    h(
      'div',
      { class: 'tiles', id: 'card-calibration' },
      tile('ECE', percent(calibration.ece), `expected calibration error, ${calibration.bins} bins`),
      tile('NLL', calibration.nll.toFixed(3), 'mean −ln p(true class)'),
      tile('Brier', calibration.brier.toFixed(3), 'mean squared error of the probabilities'),
    ),
    info
      ? factList([
          [
            'Temperature',
            `${temperatureText(info.temperature)} (${info.applied_to === 'logits' ? 'logits ÷ T before the softmax' : 'probabilities^(1/T), renormalised'})`,
          ],
          ...(info.bias
            ? /** @type {[string, string][]} */ ([['Bias', `${biasText(info.bias)} (added after ÷ T)`]])
            : []),
          [
            'Fitted on',
            `${count(info.fitted_on.samples)} ${info.fitted_on.split} images, never the test split`,
          ],
          [
            'Validation ECE',
            `${percent(info.validation.before.ece)} without, ${percent(info.validation.after.ece)} with the temperature`,
          ],
          ...(info.source
            ? /** @type {[string, string][]} */ ([
                ['Calibrated from', `${info.source.name} v${info.source.version}`],
              ])
            : []),
        ])
      : h('p', { class: 'note', text: 'No temperature: the probabilities are the network’s own.' }),
    scrollable(
      h(
        'table',
        { class: 'table', id: 'calibration-table' },
        h('caption', {
          text: `Classwise ECE of each class on the ${metadata.metrics?.split ?? 'test'} split.`,
        }),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Class', 'ECE'].map((c) => h('th', { scope: 'col', text: c })),
          ),
        ),
        h(
          'tbody',
          {},
          classes.map((c) =>
            h(
              'tr',
              { dataset: { class: c } },
              h('th', { scope: 'row', text: c }),
              h('td', { text: c in calibration.per_class_ece ? percent(calibration.per_class_ece[c]) : '—' }),
            ),
          ),
        ),
      ),
      'Per-class calibration table',
    ),
    figure,
  );
  if (chart) {
    void options.api
      .blob(reportUrl(options.name, metadata.version, chart))
      .then((image) =>
        replaceChildren(
          figure,
          h(
            'figure',
            { class: 'figure' },
            h(
              'div',
              { class: 'figure__scroll', role: 'region', 'aria-label': 'Reliability diagram', tabindex: '0' },
              h('img', {
                src: options.blobUrls.create(image),
                alt: `Reliability diagram of ${label}: accuracy against confidence per bin; ECE ${percent(calibration.ece)}.`,
                id: 'reliability-image',
              }),
            ),
            h('figcaption', { text: `Report file ${chart}.` }),
          ),
        ),
      )
      .catch((error) =>
        replaceChildren(
          figure,
          h('p', {
            class: 'error-text',
            text: `The reliability diagram could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
          }),
        ),
      );
  }
  return section;
}

/**
 * @param {VersionDetail} detail
 * @param {ModelMetadata | null} metadata
 */
function statusChips(detail, metadata) {
  return [
    h('span', {
      class: `chip chip--${detail.status === 'ready' ? 'ready' : detail.status}`,
      text: detail.status.replace('_', ' '),
    }),
    detail.default ? h('span', { class: 'chip chip--default', text: 'default version' }) : null,
    metadata
      ? h('span', {
          class: 'chip chip--plain',
          text: `${metadata.architecture.config} · ${count(metadata.architecture.parameters)} parameters`,
        })
      : null,
    metadata
      ? h('span', { class: 'chip chip--plain', text: `input ${metadata.preprocessing.input_size} px` })
      : null,
    metadata
      ? h('span', { class: 'chip chip--plain', text: `created ${dateTime(metadata.created_at)}` })
      : null,
  ];
}

/**
 * @param {ModelMetadata} metadata
 * @returns {[string, string][]}
 */
function trainingFacts(metadata) {
  const t = metadata.training;
  /** @type {[string, string][]} */
  const facts = [
    [
      'Architecture',
      `${metadata.architecture.family} (${metadata.architecture.config}), ${count(metadata.architecture.parameters)} parameters`,
    ],
    [
      'Input',
      `${metadata.preprocessing.input_size} × ${metadata.preprocessing.input_size} ${metadata.preprocessing.color}, face margin ${percent(metadata.preprocessing.face_margin, 0)}`,
    ],
    ['Classes', metadata.classes.join(', ')],
  ];
  if (t) {
    const optimizer = typeof t.optimizer.name === 'string' ? t.optimizer.name : 'optimizer';
    const decay =
      typeof t.optimizer.weight_decay === 'number' ? `, weight decay ${t.optimizer.weight_decay}` : '';
    const schedule = typeof t.lr_schedule.name === 'string' ? t.lr_schedule.name : '';
    const maxLr = typeof t.lr_schedule.max_lr === 'number' ? ` (peak ${t.lr_schedule.max_lr})` : '';
    facts.push(
      [
        'Dataset',
        `${t.dataset.format}, fingerprint ${t.dataset.fingerprint.replace(/^sha256:/, '').slice(0, 12)}…`,
      ],
      ['Epochs', t.best_epoch !== undefined ? `${t.epochs} (best: ${t.best_epoch})` : String(t.epochs)],
      ['Batch size', String(t.batch_size)],
      ['Optimizer', `${optimizer}${decay}`],
      ['Learning rate', `${schedule}${maxLr}` || '—'],
      ['Seed', String(t.seed)],
      ['Backend', t.backend],
      ['Training time', duration(t.duration_s)],
      ['Pretrained from', t.pretrained ?? 'nothing (trained from scratch)'],
    );
  } else {
    facts.push(['Training', 'not recorded (a version published without a training run)']);
  }
  if (metadata.export)
    facts.push(['Export', `ONNX opset ${metadata.export.onnx_opset} from ${metadata.export.source}`]);
  facts.push(['Code revision', metadata.code_revision ?? 'unknown']);
  return facts;
}

/**
 * @param {[string, string][]} facts
 */
function factList(facts) {
  return h(
    'dl',
    { class: 'facts' },
    facts.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]),
  );
}

/**
 * Text alternative of the curves chart, from the epoch log when there is one.
 *
 * @param {string} label "name vN"
 * @param {EpochRecord[]} epochs
 * @param {ModelMetadata} metadata
 */
function curvesDescription(label, epochs, metadata) {
  const base = `Training curves of ${label}: loss and accuracy per epoch, training and validation.`;
  if (epochs.length === 0) return base;
  const best = epochs.reduce((a, b) => (b.val_accuracy > a.val_accuracy ? b : a));
  const last = epochs[epochs.length - 1];
  return `${base} ${epochs.length} epochs; best validation accuracy ${percent(best.val_accuracy)} at epoch ${best.epoch}; final training loss ${last.train_loss.toFixed(3)}, validation loss ${last.val_loss.toFixed(3)}.${metadata.training?.best_epoch !== undefined ? ` The published weights are those of epoch ${metadata.training.best_epoch}.` : ''}`;
}

/** @param {EpochRecord[]} epochs */
function epochTable(epochs) {
  const best = epochs.reduce((a, b) => (b.val_accuracy > a.val_accuracy ? b : a), epochs[0]);
  return scrollable(
    h(
      'table',
      { class: 'table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Epoch', 'Train loss', 'Train acc.', 'Val. loss', 'Val. acc.', 'Val. macro-F1', 'Time'].map((c) =>
            h('th', { scope: 'col', text: c }),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        epochs.map((e) =>
          h(
            'tr',
            { class: e === best ? 'best' : undefined },
            h(
              'th',
              { scope: 'row' },
              String(e.epoch),
              e === best ? h('span', { class: 'best-badge', text: 'best' }) : null,
            ),
            h('td', { text: e.train_loss.toFixed(3) }),
            h('td', { text: percent(e.train_accuracy) }),
            h('td', { text: e.val_loss.toFixed(3) }),
            h('td', { text: percent(e.val_accuracy) }),
            h('td', { text: percent(e.val_macro_f1) }),
            h('td', { text: duration(e.duration_s) }),
          ),
        ),
      ),
    ),
    'Epoch by epoch',
  );
}

/**
 * The training curves figure: the report's chart, with a text alternative and the epoch table.
 *
 * @param {CardOptions} options
 * @param {ModelMetadata} metadata
 * @param {string} label
 */
function curvesSection(options, metadata, label) {
  const { api, name, blobUrls } = options;
  const version = metadata.version;
  const chart = firstReportFile(metadata, ['curves.svg', 'curves.png']);
  const log = firstReportFile(metadata, ['epochs.jsonl']);
  const body = h('div', {}, h('p', { class: 'muted', text: 'Loading the training curves…' }));
  const section = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'curves-title' },
    h('h2', { class: 'section-title', id: 'curves-title', text: 'Training curves' }),
    h('p', {
      class: 'section-lead',
      text: 'From the training report: the dashed line marks the epoch whose weights were published.',
    }),
    body,
  );
  if (!chart && !log) {
    replaceChildren(
      body,
      h('p', {
        class: 'note',
        text: 'This version has no training report (it was not published by a training run).',
      }),
    );
    return section;
  }
  void (async () => {
    try {
      const [image, epochs] = await Promise.all([
        chart ? api.blob(reportUrl(name, version, chart)) : Promise.resolve(null),
        log ? api.text(reportUrl(name, version, log)).then(parseEpochLog) : Promise.resolve([]),
      ]);
      const description = curvesDescription(label, epochs, metadata);
      replaceChildren(
        body,
        image
          ? h(
              'figure',
              { class: 'figure' },
              h(
                'div',
                {
                  class: 'figure__scroll',
                  role: 'region',
                  'aria-label': 'Training curves chart',
                  tabindex: '0',
                },
                h('img', { src: blobUrls.create(image), alt: description, id: 'curves-image' }),
              ),
              h('figcaption', { text: `Report file ${chart}.` }),
            )
          : h('p', { text: description }),
        epochs.length > 0
          ? h('details', { class: 'details' }, h('summary', { text: 'Epoch by epoch' }), epochTable(epochs))
          : null,
      );
    } catch (error) {
      replaceChildren(
        body,
        h('p', {
          class: 'error-text',
          text: `The training curves could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
    }
  })();
  return section;
}

/**
 * @param {CardOptions} options
 * @param {ModelMetadata} metadata
 */
function filesSection(options, metadata) {
  const { api, name } = options;
  const files = reportFiles(metadata);
  const markdown = files.find((f) => f.file === 'report.md');
  /**
   * @param {string} file
   * @param {HTMLButtonElement} button
   */
  const download = async (file, button) => {
    button.disabled = true;
    try {
      const blob = await api.blob(reportUrl(name, metadata.version, file));
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: `${name}-v${metadata.version}-${file}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      button.textContent = error instanceof ApiError ? `Failed: ${error.message}` : 'Failed';
    } finally {
      button.disabled = false;
    }
  };
  const reportText = h('pre', { class: 'report-text', text: 'Loading…' });
  const reportDetails = markdown
    ? h('details', { class: 'details' }, h('summary', { text: 'Read report.md' }), reportText)
    : null;
  reportDetails?.addEventListener(
    'toggle',
    () => {
      void api
        .text(reportUrl(name, metadata.version, 'report.md'))
        .then((text) => (reportText.textContent = text))
        .catch((error) => (reportText.textContent = `Could not load report.md: ${error.message}`));
    },
    { once: true },
  );
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'files-title' },
    h('h2', { class: 'section-title', id: 'files-title', text: 'Report files' }),
    files.length === 0
      ? h('p', { class: 'note', text: 'No report files were published with this version.' })
      : h(
          'ul',
          { class: 'file-list' },
          files.map((f) => {
            const button = h('button', {
              type: 'button',
              class: 'button button--small',
              'aria-label': `Download ${f.file}`,
              text: 'Download',
            });
            button.addEventListener('click', () => void download(f.file, button));
            return h(
              'li',
              {},
              h(
                'span',
                {},
                h('span', { class: 'file-list__name', text: f.file }),
                h('span', { class: 'muted', text: ` · ${fileSize(f.bytes)}` }),
              ),
              button,
            );
          }),
        ),
    reportDetails,
  );
}

/**
 * Renders the card of (name, version) into `container`; the version defaults to the model's
 * default (else its newest).
 *
 * @param {HTMLElement} container
 * @param {CardOptions} options
 */
export async function renderModelCard(container, options) {
  const { api, list, name } = options;
  const model = list.models.find((m) => m.name === name);
  const back = h('a', {
    href: stateToSearch({ view: 'models', model: null, version: null }) || '?view=models',
    text: 'All models',
  });
  if (!model || model.versions.length === 0) {
    replaceChildren(
      container,
      h('h1', { class: 'view__title', id: 'card-title', text: `No model named “${name}”` }),
      h('p', { class: 'view__lead' }, 'The registry has no such model. ', back),
    );
    return;
  }
  const version =
    options.version ?? model.default_version ?? model.versions[model.versions.length - 1].version;
  replaceChildren(container, h('p', { class: 'muted', text: `Loading ${name} v${version}…` }));
  /** @type {VersionDetail} */
  let detail;
  try {
    detail = await api.json(`/models/${encodeURIComponent(name)}/versions/${version}`);
  } catch (error) {
    replaceChildren(
      container,
      h('h1', { class: 'view__title', id: 'card-title', text: `${name} v${version}` }),
      h('p', {
        class: 'error-text',
        role: 'alert',
        text: error instanceof Error ? error.message : String(error),
      }),
      h('p', {}, back),
    );
    return;
  }
  const metadata = detail.metadata;
  const label = `${name} v${version}`;

  const versionSelect = h(
    'select',
    { class: 'select', id: 'card-version' },
    [...model.versions].reverse().map((v) =>
      h('option', {
        value: String(v.version),
        text: `v${v.version}${v.default ? ' (default)' : ''}${v.status === 'ready' ? '' : ` — ${v.status.replace('_', ' ')}`}`,
        selected: v.version === version,
      }),
    ),
  );
  versionSelect.addEventListener('change', () => options.onSelectVersion(Number(versionSelect.value)));
  const tryLink = h('a', {
    class: 'button button--primary',
    href: stateToSearch({ view: 'try', model: name, version }),
    text: 'Try this version',
  });

  const metrics = metadata?.metrics ?? null;
  const classes = metadata?.classes ?? (metrics ? Object.keys(metrics.per_class) : []);
  const bestEpoch = metadata?.training?.best_epoch;
  const calibration = metrics ? calibrationOf(metrics) : null;

  replaceChildren(
    container,
    h(
      'nav',
      { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
      h('ol', {}, h('li', {}, back), h('li', {}, h('span', { 'aria-current': 'page', text: label }))),
    ),
    h(
      'div',
      { class: 'card-head' },
      h(
        'div',
        {},
        h(
          'h1',
          { class: 'view__title', id: 'card-title' },
          `${name} `,
          h('span', { class: 'muted', text: `v${version}` }),
        ),
        h('div', { class: 'card-head__chips' }, statusChips(detail, metadata)),
      ),
      h(
        'div',
        { class: 'card-head__actions' },
        model.versions.length > 1
          ? [
              h('label', { for: 'card-version', class: 'model-picker__label', text: 'Version' }),
              versionSelect,
            ]
          : null,
        detail.status === 'ready' ? tryLink : null,
      ),
    ),
    detail.error
      ? h(
          'div',
          { class: 'alert', role: 'alert' },
          h(
            'div',
            {},
            h('p', { class: 'alert__title', text: 'This version failed to load' }),
            h('p', { text: detail.error }),
          ),
        )
      : null,
    h(
      'div',
      { class: 'card-grid' },
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'results-heading' },
        h('h2', { class: 'section-title', id: 'results-heading', text: 'Test results' }),
        metrics
          ? [
              h('p', {
                class: 'section-lead',
                text: `Measured once, after training, on ${count(metrics.samples)} images of the held-out “${metrics.split}” split.`,
              }),
              h(
                'div',
                { class: 'tiles', id: 'card-metrics' },
                tile('Accuracy', percent(metrics.accuracy)),
                tile('Macro-F1', percent(metrics.macro_f1), 'mean F1 over classes'),
                tile('Test images', count(metrics.samples)),
                metadata?.training
                  ? tile(
                      'Best epoch',
                      bestEpoch !== undefined
                        ? `${bestEpoch} / ${metadata.training.epochs}`
                        : String(metadata.training.epochs),
                      'by validation accuracy',
                    )
                  : null,
                calibration ? tile('ECE', percent(calibration.ece), 'calibration error') : null,
              ),
            ]
          : h('p', {
              class: 'note',
              id: 'card-no-metrics',
              text: 'This version has no test metrics: it was published without an evaluation (for example a model with random weights made for testing).',
            }),
      ),
      metrics && metadata
        ? h(
            'div',
            { class: 'card-grid card-grid--two' },
            h(
              'section',
              { class: 'panel', 'aria-labelledby': 'per-class-title' },
              h('h2', { class: 'section-title', id: 'per-class-title', text: 'Per class' }),
              scrollable(perClassTable(metrics, classes), 'Per-class metrics table'),
            ),
            h(
              'section',
              { class: 'panel', 'aria-labelledby': 'confusion-title' },
              h('h2', { class: 'section-title', id: 'confusion-title', text: 'Confusion matrix' }),
              h('p', {
                class: 'section-lead',
                text: 'Rows: the true class. Columns: what the model said. Shading: share of the row.',
              }),
              scrollable(
                confusionTable(
                  metrics,
                  classes,
                  `${label} on the ${metrics.split} split (${count(metrics.samples)} images).`,
                ),
                'Confusion matrix table',
              ),
            ),
          )
        : null,
      metrics && metadata ? calibrationSection(options, metadata, calibration, classes, label) : null,
      metadata ? curvesSection(options, metadata, label) : null,
      metadata
        ? h(
            'div',
            { class: 'card-grid card-grid--two' },
            h(
              'section',
              { class: 'panel', 'aria-labelledby': 'training-title' },
              h('h2', { class: 'section-title', id: 'training-title', text: 'How it was made' }),
              factList(trainingFacts(metadata)),
            ),
            filesSection(options, metadata),
          )
        : null,
    ),
  );
}
