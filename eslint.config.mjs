// Flat ESLint config for every workspace: typescript-eslint's recommended rules plus a few that
// keep the code honest (no floating promises in a server, no unused values), and the boundaries
// between workspaces and layers (docs/architecture.md, "Boundaries") as import restrictions.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// ---- Boundaries -------------------------------------------------------------------------------
// ESLint core's no-restricted-imports with a regex on the import string (no plugin needed). It
// sees `import`, `import type` and `export ... from`; the repository's few require() calls load
// sibling files. Relative specifiers are matched by the folder they climb into ('../../training/x',
// '../routes/x'), which is enough for the layouts below. A file gets ONE no-restricted-imports
// setting (in flat config the last matching object wins), so each zone lists its parents' rules.

const UP = String.raw`^(\.\./)+`;
const rule = (regex, message) => ({ regex, message });

const NOT_TRAINING = [
  rule(
    String.raw`^@fer/training(/|$)`,
    'The service never imports training: use @fer/shared, or run a training CLI as a subprocess.',
  ),
  rule(
    `${UP}(.*/)?training(/|$)`,
    'The service never imports training: use @fer/shared, or run a training CLI as a subprocess.',
  ),
];
const NOT_SERVICES = [
  rule(
    String.raw`^@fer/inference(/|$)`,
    'Training never imports the service: what both need belongs in @fer/shared.',
  ),
  rule(
    `${UP}(.*/)?services(/|$)`,
    'Training never imports the service: what both need belongs in @fer/shared.',
  ),
];
const NOT_WORKSPACES = [
  ...[String.raw`^@fer/(training|inference)(/|$)`, `${UP}(.*/)?(training|services)(/|$)`].map((regex) =>
    rule(regex, '@fer/shared is the bottom layer: it never imports training or the service.'),
  ),
];
const NOT_TESTS = [
  rule(
    String.raw`^\.{1,2}/(.*/)?test(/|$)`,
    'Non-test code never imports test/: move what it needs into src/ or tools/.',
  ),
];
const HTTP_IN_CORE =
  'The service core (batching, faces, models, runtime*) knows nothing of HTTP: throw errors.ts errors; statuses are mapped at the edge (http-errors.ts).';
const NOT_HTTP = [
  rule(String.raw`^fastify($|[-/])`, HTTP_IN_CORE),
  rule(String.raw`^@fastify/`, HTTP_IN_CORE),
  rule(`${UP}(routes|plugins)(/|$)`, HTTP_IN_CORE),
  rule(`${UP}(http-errors|client-errors|app|server)$`, HTTP_IN_CORE),
];
const restrict = (...lists) => ({ 'no-restricted-imports': ['error', { patterns: lists.flat() }] });

const boundaries = [
  { files: ['training/**/*.ts'], rules: restrict(NOT_SERVICES) },
  {
    files: ['training/src/**/*.ts', 'training/bench/**/*.ts', 'training/scripts/**/*.ts'],
    rules: restrict(NOT_SERVICES, NOT_TESTS),
  },
  {
    files: ['training/src/export/**/*.ts'],
    rules: restrict(NOT_SERVICES, NOT_TESTS, [
      rule(`${UP}data(/|$)`, 'export/ imports only TF.js, ONNX, @fer/shared and itself: no data/.'),
    ]),
  },
  {
    files: ['training/src/{train,ensemble,calibration,release}/**/*.ts'],
    rules: restrict(NOT_SERVICES, NOT_TESTS, [
      rule(
        `${UP}evaluate(/|$)`,
        'Jobs and release/ never import evaluate/: the ONNX classifier lives in release/.',
      ),
    ]),
  },
  {
    files: ['training/src/report/**/*.ts'],
    rules: restrict(NOT_SERVICES, NOT_TESTS, [
      rule(`${UP}train(/|$)`, 'report/ sits below the jobs: it never imports train/.'),
    ]),
  },
  { files: ['shared/**/*.ts'], rules: restrict(NOT_WORKSPACES) },
  { files: ['shared/src/**/*.ts'], rules: restrict(NOT_WORKSPACES, NOT_TESTS) },
  { files: ['services/**/*.ts'], rules: restrict(NOT_TRAINING) },
  {
    // The image tests check the trainer image too: they write its input with training's synthetic
    // dataset helper (test code only; docs/architecture.md, "Boundaries").
    files: ['services/inference/test/docker/trainer-check.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  { files: ['services/inference/{src,tools}/**/*.ts'], rules: restrict(NOT_TRAINING, NOT_TESTS) },
  {
    files: ['services/inference/src/{batching,faces,models,runtime,runtime-host}/**/*.ts'],
    rules: restrict(NOT_TRAINING, NOT_TESTS, NOT_HTTP),
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      'models/**',
      'artifacts/**',
      'bench-results/**',
      // Generated from openapi.yaml (npm run generate -w clients/typescript).
      'clients/typescript/src/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // The demo page's scripts run in the browser.
    files: ['services/inference/web/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...boundaries,
);
