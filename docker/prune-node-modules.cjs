/**
 * Slims an image's node_modules after `npm ci --omit=dev --workspace <ws>` (docker/*.Dockerfile, deps
 * stage), then proves the result still loads:
 *
 *   node docker/prune-node-modules.cjs --workspace services/inference --require sharp,onnxruntime-node
 *
 * What goes, and why it is safe at run time:
 * - packages the workspace does not need in production. npm's --workspace filter still installs what
 *   another workspace needs in production (protobufjs, a dev dependency of the service, stays because
 *   the trainer needs it); `npm ls --omit=dev --workspace <ws>` names exactly what this one needs.
 * - source maps, TypeScript declarations and Markdown: Node loads none of them (no --enable-source-maps).
 * - test, docs, example, demo and benchmark folders at a package's root.
 * - the bundles Node never loads of packages that ship one build per target (BUNDLES below): TF.js
 *   publishes each package as ES modules, ES2017, minified and UMD bundles for browsers, each with a
 *   source map; Node `require`s the one `main` file (a self-contained bundle) and reads the *.wasm files.
 * - data files nothing reads (DATA_FILES below: face-api's weights of networks the service never runs).
 * Licences (LICENSE*, NOTICE*, COPYING*) always stay. Symbolic links (workspace packages) are never
 * followed: a workspace the image does not need loses its link, not its files.
 */
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Files deleted wherever they are inside a kept package. */
const DROPPED_FILE = /(\.map|\.d\.ts|\.d\.mts|\.d\.cts|\.md|\.markdown)$/i;
const LICENCE = /^(licen[cs]e|notice|copying|authors)/i;
/** Folders deleted at a package's root only (deeper, names like dist/doc can be real code: yaml). */
const DROPPED_ROOT_DIRS = new Set([
  'test',
  'tests',
  '__tests__',
  'docs',
  'example',
  'examples',
  'demo',
  'benchmark',
  'benchmarks',
  '.github',
]);
/**
 * Packages whose dist/ holds one bundle per target: only `main`, the files listed here and *.wasm
 * stay in dist/. face-api's node-wasm bundle is the one the service's detector imports.
 */
const BUNDLES = {
  '@tensorflow/tfjs': [],
  '@tensorflow/tfjs-core': [],
  '@tensorflow/tfjs-backend-cpu': [],
  '@tensorflow/tfjs-backend-wasm': [],
  '@tensorflow/tfjs-backend-webgl': [],
  '@tensorflow/tfjs-converter': [],
  '@tensorflow/tfjs-data': [],
  '@tensorflow/tfjs-layers': [],
  '@vladmandic/face-api': ['dist/face-api.node-wasm.js'],
};

/**
 * Data folders of which only some files are ever read: face-api ships the weights of eight networks;
 * the service's detectors (DETECTOR=tiny|ssd) load two of them.
 */
const DATA_FILES = {
  '@vladmandic/face-api': { dir: 'model', keep: /^(tiny_face_detector|ssd_mobilenetv1)_model/ },
};

/**
 * Reads `--name value` pairs.
 *
 * @example parseArgs(['--workspace', 'training']) // { workspace: 'training', require: [] }
 * @param {string[]} argv
 * @returns {{ workspace: string, require: string[] }}
 */
function parseArgs(argv) {
  const options = { workspace: '', require: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === '--workspace') options.workspace = value;
    else if (name === '--require') options.require = value.split(',').filter(Boolean);
    else throw new Error(`unknown option ${name}`);
  }
  if (!options.workspace) throw new Error('--workspace <folder> is required');
  return options;
}

/** Bytes under `target`, symbolic links counted as links. */
function sizeOf(target) {
  const stat = fs.lstatSync(target);
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(target).reduce((total, name) => total + sizeOf(path.join(target, name)), 0);
}

/** The package folders (node_modules/<name> and node_modules/@scope/<name>) directly under `dir`. */
function packagesIn(nodeModules) {
  if (!fs.existsSync(nodeModules)) return [];
  return fs.readdirSync(nodeModules).flatMap((name) => {
    if (name.startsWith('.')) return [];
    const full = path.join(nodeModules, name);
    if (name.startsWith('@') && fs.lstatSync(full).isDirectory()) {
      return fs.readdirSync(full).map((inner) => path.join(full, inner));
    }
    return [full];
  });
}

/** Deletes dropped files everywhere below `dir` (never through links). */
function dropFiles(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') dropFiles(full);
    } else if (DROPPED_FILE.test(entry.name) && !LICENCE.test(entry.name)) {
      fs.rmSync(full);
    }
  }
}

/** Keeps only `main`, the listed extras and *.wasm in the package's dist/. */
function keepBundles(packageDir, manifest, extras) {
  const dist = path.join(packageDir, 'dist');
  const keep = new Set([manifest.main, ...extras].map((f) => path.normalize(f)));
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(packageDir, full);
      if (entry.isDirectory()) {
        walk(full);
        if (fs.readdirSync(full).length === 0) fs.rmdirSync(full);
      } else if (!keep.has(relative) && !entry.name.endsWith('.wasm')) {
        fs.rmSync(full);
      }
    }
  };
  if (fs.existsSync(dist)) walk(dist);
  for (const file of keep) {
    if (!fs.existsSync(path.join(packageDir, file))) {
      throw new Error(`${manifest.name}: ${file} is gone; BUNDLES in this script is out of date`);
    }
  }
}

/** Slims one package that stays, then the packages nested in it. */
function slim(packageDir, needed) {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  for (const name of fs.readdirSync(packageDir)) {
    if (DROPPED_ROOT_DIRS.has(name)) fs.rmSync(path.join(packageDir, name), { recursive: true });
  }
  dropFiles(packageDir);
  if (manifest.name in BUNDLES) keepBundles(packageDir, manifest, BUNDLES[manifest.name]);
  if (manifest.name in DATA_FILES) {
    const { dir, keep } = DATA_FILES[manifest.name];
    const files = fs.readdirSync(path.join(packageDir, dir));
    if (!files.some((name) => keep.test(name))) throw new Error(`${manifest.name}: no ${keep} in ${dir}/`);
    for (const name of files.filter((f) => !keep.test(f))) fs.rmSync(path.join(packageDir, dir, name));
  }
  prune(path.join(packageDir, 'node_modules'), needed);
}

/** Removes every package under `nodeModules` that is not needed, and slims the others. */
function prune(nodeModules, needed) {
  for (const dir of packagesIn(nodeModules)) {
    const stat = fs.lstatSync(dir);
    if (!needed.has(dir)) fs.rmSync(dir, { recursive: true, force: true });
    else if (!stat.isSymbolicLink() && fs.existsSync(path.join(dir, 'package.json'))) slim(dir, needed);
  }
  for (const scope of fs.existsSync(nodeModules) ? fs.readdirSync(nodeModules) : []) {
    const full = path.join(nodeModules, scope);
    if (scope.startsWith('@') && fs.readdirSync(full).length === 0) fs.rmdirSync(full);
  }
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const root = process.cwd();
  const nodeModules = path.join(root, 'node_modules');
  const listed = execFileSync(
    'npm',
    ['ls', '--all', '--parseable', '--omit=dev', '--workspace', options.workspace],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // npm ls prints each package where it lies; workspace links appear as node_modules/@scope/name.
  const needed = new Set(listed.split('\n').filter(Boolean));
  for (const dir of [...needed]) {
    const relative = path.relative(root, dir);
    if (!relative.startsWith('node_modules') && relative !== '') {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      needed.add(path.join(nodeModules, manifest.name));
    }
  }
  const before = sizeOf(nodeModules);
  prune(nodeModules, needed);
  const after = sizeOf(nodeModules);
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`prune-node-modules: ${options.workspace}: ${mb(before)} -> ${mb(after)}`);
  for (const specifier of options.require) {
    require(require.resolve(specifier, { paths: [path.join(root, options.workspace)] }));
    console.log(`prune-node-modules: ${specifier} loads`);
  }
}

if (require.main === module) {
  try {
    main();
    // The required packages may keep handles open (worker threads, timers): the check is done.
    process.exit(0);
  } catch (error) {
    console.error(`prune-node-modules: ${error.message}`);
    process.exit(1);
  }
}

module.exports = { parseArgs, BUNDLES, DATA_FILES };
