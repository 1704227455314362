/**
 * The base images the Dockerfiles start from (`debian:<suite>-slim`, `node:<version>-<suite>-slim`):
 * used as they are when the engine has them, pulled when a registry answers, and otherwise built here
 * as stand-ins from Debian's own mirror and the npm registry, under the same names:
 *
 * - Debian: `debootstrap --variant=minbase`, then what the official slim image does (no docs, man
 *   pages or locales; apt keeps no caches), imported with `docker import`.
 * - Node.js: that Debian plus the official Node.js binary and headers (npm's `node-linux-<arch>`
 *   package of the same version), npm, and a `node` user with uid 1000, as in the official image.
 *   This machine's CA bundle and npm registry go into the stand-in (never into the project's
 *   Dockerfiles), so `npm ci` inside a build reaches the registry the way this machine does.
 */
import { chmod, copyFile, cp, mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { DOCKER, mustRun, runCommand } from './commands';

export const DEBIAN_MIRROR = process.env.FER_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const DEBIAN_SECURITY_MIRROR =
  process.env.FER_DEBIAN_SECURITY_MIRROR ?? 'http://deb.debian.org/debian-security';
const DEBOOTSTRAP_TIMEOUT_MS = 240_000;
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/**
 * Stand-ins are kept here (`docker save`) between runs on one machine, for a week (then rebuilt, with
 * Debian's updates); FER_DOCKER_CACHE_DIR=off disables it.
 */
export const STAND_IN_CACHE_DIR =
  process.env.FER_DOCKER_CACHE_DIR ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'fer-docker-test');
const STAND_IN_CACHE_MAX_AGE_MS = 7 * 24 * 3600_000;
/** Part of the cache files' names: raised whenever the stand-ins' recipe changes. */
const STAND_IN_RECIPE = 'r2';

/** The cache file of a stand-in image, e.g. `node_24.22.3-bookworm-slim.tar`. */
function cacheFile(name: string): string | null {
  return STAND_IN_CACHE_DIR === 'off'
    ? null
    : path.join(STAND_IN_CACHE_DIR, `${name.replace(/[^\w.-]+/g, '_')}.${STAND_IN_RECIPE}.tar`);
}

/** Loads a cached stand-in younger than a week; false when there is none. */
async function loadCached(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const file = cacheFile(name);
  if (!file || !existsSync(file)) return false;
  if (Date.now() - (await stat(file)).mtimeMs > STAND_IN_CACHE_MAX_AGE_MS) return false;
  return (await runCommand(DOCKER, ['load', '-q', '-i', file], { env, timeoutMs: 180_000 })).code === 0;
}

async function saveCached(name: string, env: NodeJS.ProcessEnv): Promise<void> {
  const file = cacheFile(name);
  if (!file) return;
  await mkdir(path.dirname(file), { recursive: true });
  await mustRun(DOCKER, ['save', '-o', `${file}.partial`, name], { env, timeoutMs: 180_000 });
  await rename(`${file}.partial`, file);
}

/** A base image name taken apart: `node:24.22.3-bookworm-slim` → node 24.22.3 on bookworm. */
export interface BaseImage {
  name: string;
  kind: 'debian' | 'node';
  suite: string;
  nodeVersion: string | null;
}

/**
 * Reads a base image name the stand-ins can replace; null for any other image.
 *
 * @example parseBaseImage('node:24.22.3-bookworm-slim') // { kind: 'node', suite: 'bookworm', nodeVersion: '24.22.3', ... }
 */
export function parseBaseImage(name: string): BaseImage | null {
  const debian = /^debian:([a-z]+)-slim$/.exec(name);
  if (debian) return { name, kind: 'debian', suite: debian[1], nodeVersion: null };
  const node = /^node:(\d+\.\d+\.\d+)-([a-z]+)-slim$/.exec(name);
  if (node) return { name, kind: 'node', suite: node[2], nodeVersion: node[1] };
  return null;
}

/** apt and dpkg settings of Docker's official Debian images (debuerreotype's slim variant). */
const SLIM_FILES: Record<string, string> = {
  'etc/apt/apt.conf.d/docker-clean': [
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
    '',
  ].join('\n'),
  'etc/apt/apt.conf.d/docker-no-languages': 'Acquire::Languages "none";\n',
  'etc/apt/apt.conf.d/docker-gzip-indexes': 'Acquire::GzipIndexes "true";\n',
  'etc/apt/apt.conf.d/docker-autoremove-suggests': 'Apt::AutoRemove::SuggestsImportant "false";\n',
  'etc/dpkg/dpkg.cfg.d/docker': [
    'path-exclude /usr/share/doc/*',
    'path-include /usr/share/doc/*/copyright',
    'path-exclude /usr/share/man/*',
    'path-exclude /usr/share/groff/*',
    'path-exclude /usr/share/info/*',
    'path-exclude /usr/share/lintian/*',
    'path-exclude /usr/share/linda/*',
    'path-exclude /usr/share/locale/*',
    '',
  ].join('\n'),
};

/** The folders the slim settings keep empty, emptied once after debootstrap. */
const SLIM_EMPTIED = [
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'var/lib/apt/lists',
  'var/cache/apt',
];

async function hasImage(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return (await runCommand(DOCKER, ['image', 'inspect', name], { env, timeoutMs: 20_000 })).code === 0;
}

/** `tar -C dir -c . | docker import - name`, with Dockerfile instructions (`changes`) applied. */
function importFolder(dir: string, name: string, changes: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', dir, '--numeric-owner', '-c', '.'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const load = spawn(DOCKER, ['import', ...changes.flatMap((c) => ['--change', c]), '-', name], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    tar.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    load.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    tar.stdout.pipe(load.stdin);
    load.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`docker import ${name} failed (${code}): ${stderr}`)),
    );
  });
}

/** Debian `suite` by debootstrap into `rootfs`, slimmed like the official image. */
async function debootstrap(suite: string, rootfs: string): Promise<void> {
  await mustRun('debootstrap', ['--variant=minbase', suite, rootfs, DEBIAN_MIRROR], {
    timeoutMs: DEBOOTSTRAP_TIMEOUT_MS,
  });
  for (const dir of SLIM_EMPTIED) {
    await rm(path.join(rootfs, dir), { recursive: true, force: true });
    await mkdir(path.join(rootfs, dir), { recursive: true });
  }
  for (const [file, text] of Object.entries(SLIM_FILES)) {
    await mkdir(path.dirname(path.join(rootfs, file)), { recursive: true });
    await writeFile(path.join(rootfs, file), text);
  }
  // The official image's sources: the release, its updates and security.
  await rm(path.join(rootfs, 'etc/apt/sources.list'), { force: true });
  const source = (uri: string, suites: string) =>
    `Types: deb\nURIs: ${uri}\nSuites: ${suites}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`;
  await writeFile(
    path.join(rootfs, 'etc/apt/sources.list.d/debian.sources'),
    `${source(DEBIAN_MIRROR, `${suite} ${suite}-updates`)}\n${source(DEBIAN_SECURITY_MIRROR, `${suite}-security`)}`,
  );
  await addRegistryAccess(rootfs);
}

/**
 * This machine's way to the npm registry (its CA bundle, the registry's address) as the global npmrc
 * of a Node.js copied into /usr/local: in the Debian stand-in, so it also reaches the images that
 * bring their own Node.js onto a Debian or CUDA base (the trainer's build stage).
 */
async function addRegistryAccess(rootfs: string): Promise<void> {
  const local = path.join(rootfs, 'usr', 'local');
  const registry = (await mustRun('npm', ['config', 'get', 'registry'], { timeoutMs: 30_000 })).trim();
  const hasCa = existsSync(CA_BUNDLE);
  if (hasCa) {
    await mkdir(path.join(rootfs, path.dirname(CA_BUNDLE)), { recursive: true });
    await copyFile(CA_BUNDLE, path.join(rootfs, CA_BUNDLE));
  }
  await mkdir(path.join(local, 'etc'), { recursive: true });
  await writeFile(
    path.join(local, 'etc', 'npmrc'),
    `registry=${registry}\n${hasCa ? `cafile=${CA_BUNDLE}\n` : ''}`,
  );
}

/**
 * The folder of the official Node.js `version` for this machine (bin/node, include/node): the running
 * Node's own when it is that version (CI runs the tests on it), else npm's node-linux-<arch> package.
 */
async function nodeDistribution(version: string, workDir: string): Promise<string> {
  const prefix = path.dirname(path.dirname(process.execPath));
  if (process.version === `v${version}` && existsSync(path.join(prefix, 'include', 'node', 'node.h'))) {
    return prefix;
  }
  const dir = path.join(workDir, `node-${version}`);
  await mkdir(dir, { recursive: true });
  const tarball = (
    await mustRun('npm', ['pack', '--silent', `node-linux-${process.arch}@${version}`], {
      cwd: dir,
      timeoutMs: 180_000,
    })
  ).trim();
  await mustRun('tar', ['-xzf', tarball, '--strip-components=1'], { cwd: dir, timeoutMs: 60_000 });
  return dir;
}

/** npm of the version this machine runs, unpacked from the registry. */
async function npmPackage(workDir: string): Promise<string> {
  const version = (await mustRun('npm', ['--version'], { timeoutMs: 30_000 })).trim();
  const dir = path.join(workDir, `npm-${version}`);
  await mkdir(dir, { recursive: true });
  const tarball = (
    await mustRun('npm', ['pack', '--silent', `npm@${version}`], { cwd: dir, timeoutMs: 120_000 })
  ).trim();
  await mustRun('tar', ['-xzf', tarball, '--strip-components=1'], { cwd: dir, timeoutMs: 60_000 });
  await rm(path.join(dir, tarball));
  return dir;
}

/** Adds Node.js, npm, this machine's registry settings and the `node` user to a Debian root. */
async function addNode(rootfs: string, version: string, workDir: string): Promise<void> {
  const local = path.join(rootfs, 'usr', 'local');
  const dist = await nodeDistribution(version, workDir);
  await copyFile(path.join(dist, 'bin', 'node'), path.join(local, 'bin', 'node'));
  await chmod(path.join(local, 'bin', 'node'), 0o755);
  await cp(path.join(dist, 'include', 'node'), path.join(local, 'include', 'node'), { recursive: true });
  await cp(await npmPackage(workDir), path.join(local, 'lib', 'node_modules', 'npm'), { recursive: true });
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(local, 'bin', 'npm'));
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', path.join(local, 'bin', 'npx'));
  await mustRun('chroot', [rootfs, 'groupadd', '--gid', '1000', 'node'], { timeoutMs: 30_000 });
  await mustRun(
    'chroot',
    [rootfs, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node'],
    {
      timeoutMs: 30_000,
    },
  );
}

/**
 * Makes every image of `names` available to the engine; returns one line per image saying how.
 *
 * @example await ensureBaseImages(['debian:bookworm-slim', 'node:24.22.3-bookworm-slim'], env)
 */
export async function ensureBaseImages(names: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const notes: string[] = [];
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'fer-base-'));
  try {
    // Debian first: the Node.js stand-in is built on it.
    const images = names
      .map((name) => parseBaseImage(name) ?? { name, kind: 'other' as const, suite: '', nodeVersion: null })
      .sort((a, b) => (a.kind === 'debian' ? -1 : b.kind === 'debian' ? 1 : 0));
    const missing: BaseImage[] = [];
    for (const image of images) {
      if (await hasImage(image.name, env)) {
        notes.push(`${image.name}: present`);
        continue;
      }
      const pull = await runCommand(DOCKER, ['pull', '-q', image.name], { env, timeoutMs: 120_000 });
      if (pull.code === 0) {
        notes.push(`${image.name}: pulled`);
        continue;
      }
      if (image.kind === 'other') {
        throw new Error(`${image.name} cannot be pulled and has no stand-in: ${pull.stderr.trim()}`);
      }
      const why = pull.stderr.trim().split('\n').at(-1);
      if (await loadCached(image.name, env)) {
        notes.push(`${image.name}: stand-in loaded from ${STAND_IN_CACHE_DIR} (${why})`);
        continue;
      }
      missing.push(image);
      notes.push(`${image.name}: stand-in built (${why})`);
    }
    // One debootstrap per Debian release serves its Debian image and the Node.js images on it.
    for (const suite of new Set(missing.map((image) => image.suite))) {
      const rootfs = path.join(workDir, `rootfs-${suite}`);
      await debootstrap(suite, rootfs);
      const debian = missing.find((image) => image.kind === 'debian' && image.suite === suite);
      if (debian) await importFolder(rootfs, debian.name, ['CMD ["bash"]'], env);
      const nodes = missing.filter((image) => image.kind === 'node' && image.suite === suite);
      if (nodes.length > 1)
        throw new Error(`one Node.js version per Debian release: ${nodes.map((n) => n.name).join(', ')}`);
      for (const node of nodes) {
        await addNode(rootfs, node.nodeVersion!, workDir);
        await importFolder(rootfs, node.name, [`ENV NODE_VERSION=${node.nodeVersion}`, 'CMD ["node"]'], env);
      }
      await rm(rootfs, { recursive: true, force: true });
    }
    for (const image of missing) await saveCached(image.name, env);
    return notes;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
