/**
 * The Dockerfiles in docker/, checked without a Docker engine: the validator of the Docker language
 * server (dockerfile-utils) with every rule as an error, then the structure parsed by dockerfile-ast
 * against the repository itself: COPY sources that survive .dockerignore, the lockfile install of the
 * right workspace, a non-root user, exec-form start commands equal to the workspace scripts and to
 * README.md, a HEALTHCHECK that runs the real probe script, and image environments the service's own
 * config schema accepts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import ts from 'typescript';
import type { Copy, Healthcheck } from 'dockerfile-ast';
import { loadConfig } from '../../src/config';
import { OPENAPI_FILE } from '../../src/plugins/external/swagger';
import { REPO_ROOT } from '../helpers/test-models';
import {
  argumentsText,
  buildContext,
  execForm,
  filesOfSource,
  finalStage,
  imageEnv,
  imageFiles,
  instructions,
  parseDockerfile,
  type Stage,
} from './docker-files';
import { durationMs } from './durations';

interface ImageSpec {
  dockerfile: string;
  /** The workspace whose code the image runs. */
  workspace: string;
}

const SERVICE: ImageSpec = { dockerfile: 'service.Dockerfile', workspace: 'services/inference' };
const SERVICE_GPU: ImageSpec = { dockerfile: 'service-gpu.Dockerfile', workspace: 'services/inference' };
const TRAINER: ImageSpec = { dockerfile: 'train-gpu.Dockerfile', workspace: 'training' };
const IMAGES = [SERVICE, SERVICE_GPU, TRAINER];
/** Where every image mirrors the repository. */
const APP_DIR = '/app';

const ALL_AS_ERRORS: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

const HAS_HAPROXY = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;
/** CI installs haproxy (.ci/run); elsewhere the configuration check skips with a message. */
const needsHaproxy = HAS_HAPROXY || process.env.CI ? it : it.skip;
if (!HAS_HAPROXY && !process.env.CI) {
  console.warn('haproxy not found (apt-get install haproxy): skipping the docker/haproxy.cfg check');
}

const HAS_SHELLCHECK = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0;
/** CI installs shellcheck (.ci/run); elsewhere the shell checks skip with a message. */
const needsShellcheck = HAS_SHELLCHECK || process.env.CI ? it : it.skip;
if (!HAS_SHELLCHECK && !process.env.CI) {
  console.warn('shellcheck not found (apt-get install shellcheck): skipping the RUN command checks');
}

/** shellcheck's findings for POSIX sh code; an empty string when there are none. */
function shellcheck(code: string, exclude: string[] = []): string {
  const args = [
    '--shell=sh',
    '--format=gcc',
    ...(exclude.length ? [`--exclude=${exclude.join(',')}`] : []),
    '-',
  ];
  const result = spawnSync('shellcheck', args, { input: code, encoding: 'utf8' });
  return result.status === 0 ? '' : result.stdout || result.stderr || `shellcheck exited ${result.status}`;
}

const rootPackage = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  workspaces: string[];
  scripts: Record<string, string>;
};
const workspaceScripts = (workspace: string) =>
  (
    JSON.parse(readFileSync(path.join(REPO_ROOT, workspace, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
const context = buildContext();
const lastWorkdir = (stage: Stage) => argumentsText(instructions(stage, 'WORKDIR').at(-1)!);

/** The npm package a bare import specifier names ('@scope/pkg/sub' -> '@scope/pkg'), null for local or built-in. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  if (builtinModules.includes(parts[0])) return null;
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Packages that `workspace`'s sources import (TypeScript's own import scanner) without declaring them
 * in its package.json: an image installs only declared dependencies, so these would be missing there.
 */
function undeclaredImports(workspace: string, files: readonly string[]): string[] {
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, workspace, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const undeclared = new Set<string>();
  for (const file of files.filter((f) => f.startsWith(`${workspace}/src/`) && f.endsWith('.ts'))) {
    const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      const name = packageOf(fileName);
      if (name && !declared.has(name)) undeclared.add(`${name} (${file})`);
    }
  }
  return [...undeclared];
}

/** README.md split into its `## ` sections, by heading. */
function readmeSections(): Map<string, string> {
  const sections = new Map<string, string>();
  let heading = '';
  for (const line of readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').split('\n')) {
    if (line.startsWith('## ')) heading = line.slice(3).trim();
    sections.set(heading, `${sections.get(heading) ?? ''}${line}\n`);
  }
  return sections;
}

describe.each(IMAGES)('docker/$dockerfile', (spec) => {
  const dockerfile = parseDockerfile(spec.dockerfile);
  const final = finalStage(dockerfile);

  needsShellcheck('has RUN commands that pass shellcheck (they run under /bin/sh -c)', () => {
    const findings = dockerfile.stages
      .flatMap((stage) => instructions(stage, 'RUN'))
      // Variables of RUN commands come from ARG and ENV, which shellcheck cannot see (SC2154).
      .map((run) => [
        run.getRange().start.line + 1,
        shellcheck(run.getRawArgumentsContent() ?? '', ['SC2154']),
      ])
      .filter(([, found]) => found !== '');
    expect(findings).toEqual([]);
  });

  it('passes the Dockerfile validator with every check as an error', () => {
    const problems = validate(dockerfile.text, ALL_AS_ERRORS).map(
      (d) => `line ${d.range.start.line + 1}: ${d.message}`,
    );
    expect(problems).toEqual([]);
  });

  it('builds from tagged base images (never latest) and names only stages it defines', () => {
    const names = new Set(dockerfile.stages.map((s) => s.name).filter(Boolean));
    for (const stage of dockerfile.stages) {
      if (names.has(stage.image)) continue;
      expect(stage.image).toMatch(/^[a-z0-9./-]+:[\w.-]+$/);
      expect(stage.image).not.toMatch(/:latest$/);
    }
    for (const stage of dockerfile.stages) {
      for (const copy of instructions<Copy>(stage, 'COPY')) {
        const from = copy.getFromFlag()?.getValue();
        if (from) expect(names).toContain(from);
      }
    }
  });

  it('COPYs only files that exist in the build context after .dockerignore', () => {
    const missing: string[] = [];
    for (const stage of dockerfile.stages) {
      for (const copy of instructions<Copy>(stage, 'COPY')) {
        if (copy.getFromFlag()) continue;
        const sources = copy
          .getArguments()
          .map((a) => a.getValue())
          .slice(0, -1);
        for (const source of sources) {
          if (filesOfSource(source, context).length === 0)
            missing.push(`line ${copy.getRange().start.line + 1}: ${source}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it(`installs the lockfile's production dependencies of ${spec.workspace}, with every workspace manifest`, () => {
    const [deps] = dockerfile.stages.filter((s) =>
      instructions(s, 'RUN').some((r) => argumentsText(r).startsWith('npm ci ')),
    );
    const install = instructions(deps, 'RUN')
      .map(argumentsText)
      .find((t) => t.startsWith('npm ci '))!;
    expect(install.split(/\s+/)).toEqual(
      expect.arrayContaining(['--omit=dev', '--workspace', spec.workspace]),
    );
    const copied = instructions<Copy>(deps, 'COPY').flatMap((c) =>
      c
        .getArguments()
        .slice(0, -1)
        .map((a) => path.posix.normalize(a.getValue())),
    );
    const manifests = [
      'package.json',
      'package-lock.json',
      '.npmrc',
      ...rootPackage.workspaces.map((w) => `${w}/package.json`),
    ];
    expect(copied).toEqual(expect.arrayContaining(manifests));
  });

  it(`prunes ${spec.workspace}'s node_modules with docker/prune-node-modules.cjs, checking its imports load`, () => {
    const runs = dockerfile.stages.flatMap((s) => instructions(s, 'RUN').map(argumentsText));
    const prune = runs.find((r) => r.includes('prune-node-modules.cjs'));
    expect(prune).toMatch(new RegExp(`--workspace ${spec.workspace} --require \\S*onnxruntime-node`));
    // After npm ci, in the same layer: what is removed never lands in the image.
    expect(prune).toMatch(/^npm ci .*&& node \/tmp\/prune-node-modules\.cjs/);
  });

  it('runs as an unprivileged user, with tini as PID 1 and an exec-form command', () => {
    const user = argumentsText(instructions(final, 'USER').at(-1)!);
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(execForm(instructions(final, 'ENTRYPOINT').at(-1)!)?.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expect(instructions(final, 'RUN').map(argumentsText).join('\n')).toMatch(/apt-get install .*\btini\b/);
    expect(execForm(instructions(final, 'CMD').at(-1)!)).not.toBeNull();
  });

  it(`has every package that ${spec.workspace} and @fer/shared import among their declared dependencies`, () => {
    expect([spec.workspace, 'shared'].flatMap((w) => undeclaredImports(w, [...context]))).toEqual([]);
  });

  it(`carries every source file of ${spec.workspace} and @fer/shared, and the tsconfig files tsx reads`, () => {
    const files = imageFiles(dockerfile, context);
    const wanted = [...context].filter((f) => f.startsWith(`${spec.workspace}/`) || f.startsWith('shared/'));
    expect(wanted.filter((f) => files.get(f) !== path.posix.join(APP_DIR, f))).toEqual([]);
    // tsx follows each workspace tsconfig's "extends" at run time.
    for (const workspace of [spec.workspace, 'shared']) {
      const tsconfig = JSON.parse(readFileSync(path.join(REPO_ROOT, workspace, 'tsconfig.json'), 'utf8')) as {
        extends: string;
      };
      const base = path.posix.normalize(path.posix.join(workspace, tsconfig.extends));
      expect(files.get(base)).toBe(path.posix.join(APP_DIR, base));
    }
  });
});

describe.each([SERVICE, SERVICE_GPU])('the service image docker/$dockerfile', (spec) => {
  const dockerfile = parseDockerfile(spec.dockerfile);
  const final = finalStage(dockerfile);
  const cmd = execForm(instructions(final, 'CMD').at(-1)!)!;

  it("starts with the workspace's npm start script, without npm or a shell, in the workspace folder", () => {
    expect(cmd.join(' ')).toBe(workspaceScripts(spec.workspace).start);
    expect(lastWorkdir(final)).toBe(path.posix.join(APP_DIR, spec.workspace));
    expect(argumentsText(instructions(final, 'STOPSIGNAL').at(-1)!)).toBe('SIGTERM');
  });

  it('starts with the command README.md documents for the image and for npm start', () => {
    const sections = readmeSections();
    const documented = /The image starts the\s+service with `([^`]+)`/.exec(
      sections.get('Docker') ?? '',
    )?.[1];
    expect(documented).toBe(cmd.join(' '));
    expect(documented).toBe(workspaceScripts(spec.workspace).start);
    expect(sections.get('Inference service')).toContain(`\`${documented}\``);
  });

  it('reaches the files the service reads outside its workspace (openapi.yaml)', () => {
    const openapi = path.relative(REPO_ROOT, OPENAPI_FILE);
    expect(imageFiles(dockerfile, context).get(openapi)).toBe(path.posix.join(APP_DIR, openapi));
  });

  it('checks health with the real probe script on /readyz, within Docker timeouts', () => {
    const [healthcheck] = instructions<Healthcheck>(final, 'HEALTHCHECK');
    const args = healthcheck.getArguments().map((a) => a.getValue());
    expect(args[0]).toBe('CMD');
    const command = JSON.parse(args.slice(1).join(' ')) as string[];
    expect(command[0]).toBe('node');
    const script = [...imageFiles(dockerfile, context)].find(([, target]) => target === command[1]);
    expect(script?.[0]).toBe('docker/healthcheck.cjs');
    const flags = Object.fromEntries(healthcheck.getFlags().map((f) => [f.getName(), f.getValue() ?? '']));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const probe = require(path.join(REPO_ROOT, script![0])) as {
      probeTarget(env: object): { timeoutMs: number };
    };
    expect(probe.probeTarget({}).timeoutMs).toBeLessThan(durationMs(flags.timeout));
    expect(durationMs(flags['start-period'])).toBeGreaterThanOrEqual(60_000);
  });

  it("sets an environment the service's config accepts, with the registry on the declared volume", () => {
    const env = imageEnv(final);
    const config = loadConfig(env);
    const volumes = instructions(final, 'VOLUME').flatMap((v) => execForm(v) ?? []);
    expect(volumes).toContain(config.registry.dir);
    expect(instructions(final, 'EXPOSE').map(argumentsText)).toEqual([String(config.port)]);
    expect(config.runtime.kind).toBe('onnx');
    expect(config.runtime.device).toBe(spec === SERVICE_GPU ? 'cuda' : 'cpu');
  });
});

describe('the GPU images', () => {
  it('service-gpu: CUDA 12 with cuDNN, and the CUDA provider of onnxruntime-node installed at build', () => {
    const dockerfile = parseDockerfile(SERVICE_GPU.dockerfile);
    expect(finalStage(dockerfile).image).toMatch(/^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
    const runs = dockerfile.stages.flatMap((s) => instructions(s, 'RUN').map(argumentsText)).join('\n');
    const installer = 'node_modules/onnxruntime-node/script/install.js';
    expect(runs).toContain(`ONNXRUNTIME_NODE_INSTALL=cuda12 node ${installer}`);
    expect(existsSync(path.join(REPO_ROOT, installer))).toBe(true);
    expect(runs).toContain('libonnxruntime_providers_cuda.so');
  });

  it('trainer: CUDA 11 with cuDNN 8 for libtensorflow 2.9.1, the npm run train entry point, SIGINT to stop', () => {
    const dockerfile = parseDockerfile(TRAINER.dockerfile);
    const final = finalStage(dockerfile);
    expect(final.image).toMatch(/^nvidia\/cuda:11\.[\d.]+-cudnn8-runtime-/);
    const [tool, script] = rootPackage.scripts.train.split(' ');
    expect(tool).toBe('tsx');
    const command = [
      ...execForm(instructions(final, 'ENTRYPOINT').at(-1)!)!,
      ...execForm(instructions(final, 'CMD').at(-1)!)!,
    ];
    expect(command.slice(2, 6)).toEqual(['node', '--import', 'tsx', script]);
    expect(lastWorkdir(final)).toBe(APP_DIR);
    expect(imageFiles(dockerfile, context).get(script)).toBe(path.posix.join(APP_DIR, script));
    // train.ts stops between batches on SIGINT (Ctrl-C); docker stop must send that.
    expect(argumentsText(instructions(final, 'STOPSIGNAL').at(-1)!)).toBe('SIGINT');
    for (const arg of ['LIBTENSORFLOW_URL', 'LIBTENSORFLOW_SHA256', 'TFJS_NODE_BASE_URI', 'TFJS_NATIVE']) {
      expect(dockerfile.args.has(arg)).toBe(true);
    }
  });

  it('trainer: the libtensorflow install script is valid POSIX shell', () => {
    expect(() =>
      execFileSync('sh', ['-n', path.join(REPO_ROOT, 'docker/install-tfjs-node-gpu.sh')]),
    ).not.toThrow();
  });

  needsShellcheck('trainer: the libtensorflow install script passes shellcheck', () => {
    expect(shellcheck(readFileSync(path.join(REPO_ROOT, 'docker/install-tfjs-node-gpu.sh'), 'utf8'))).toBe(
      '',
    );
  });
});

describe('the Node.js of the images', () => {
  const nvmrc = readFileSync(path.join(REPO_ROOT, '.nvmrc'), 'utf8').trim();

  it.each(IMAGES)('docker/$dockerfile runs the Node.js of .nvmrc, the version CI tests on', (spec) => {
    expect(parseDockerfile(spec.dockerfile).args.get('NODE_IMAGE')).toBe(`node:${nvmrc}-bookworm-slim`);
  });

  it("is an LTS release that package.json's engines accept", () => {
    const engines = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    const [, minimum] = /^>=(\d+\.\d+)$/.exec(engines) ?? [];
    const [major, minor] = nvmrc.split('.').map(Number);
    const [minMajor, minMinor] = minimum.split('.').map(Number);
    expect(major > minMajor || (major === minMajor && minor >= minMinor)).toBe(true);
    // Even majors are the LTS lines.
    expect(major % 2).toBe(0);
  });

  it('the CPU service image runs on the Debian release of its Node.js image', () => {
    const args = parseDockerfile(SERVICE.dockerfile).args;
    expect(args.get('DEBIAN_IMAGE')).toBe('debian:bookworm-slim');
    expect(args.get('NODE_IMAGE')).toMatch(/-bookworm-slim$/);
  });
});

describe('docker/balancer.Dockerfile and docker/haproxy.cfg', () => {
  const dockerfile = parseDockerfile('balancer.Dockerfile');
  const final = finalStage(dockerfile);
  const config = path.join(REPO_ROOT, 'docker', 'haproxy.cfg');

  it('passes the Dockerfile validator, builds on Debian, runs HAProxy unprivileged with a soft stop', () => {
    expect(validate(dockerfile.text, ALL_AS_ERRORS).map((d) => d.message)).toEqual([]);
    expect(final.image).toBe('debian:bookworm-slim');
    expect(instructions(final, 'RUN').map(argumentsText).join('\n')).toMatch(/apt-get install .*\bhaproxy\b/);
    expect(argumentsText(instructions(final, 'USER').at(-1)!)).toBe('haproxy');
    expect(execForm(instructions(final, 'CMD').at(-1)!)?.slice(0, 2)).toEqual(['haproxy', '-db']);
    expect(argumentsText(instructions(final, 'STOPSIGNAL').at(-1)!)).toBe('SIGUSR1');
    expect(imageFiles(dockerfile, context).get('docker/haproxy.cfg')).toBe('/etc/haproxy/haproxy.cfg');
  });

  it('checks /readyz and retries idempotent predictions on another replica', () => {
    const text = readFileSync(config, 'utf8');
    expect(text).toMatch(/http-check send meth GET uri \/readyz/);
    expect(text).toMatch(/retry-on [^\n]*conn-failure[^\n]*empty-response[^\n]*503/);
    expect(text).toMatch(/option redispatch/);
    expect(text).toMatch(/option http-buffer-request/);
  });

  needsHaproxy('is a configuration haproxy -c accepts, and one it rejects without its variables', () => {
    const check = (env: Record<string, string>) =>
      spawnSync('haproxy', ['-c', '-f', config], {
        env: { PATH: process.env.PATH ?? '', ...env },
        encoding: 'utf8',
      });
    const vars = {
      BALANCER_BIND: '127.0.0.1:8090',
      REPLICA_1: '127.0.0.1:8091',
      REPLICA_2: '127.0.0.1:8092',
    };
    expect(check(vars).status).toBe(0);
    expect(check({ ...vars, BALANCER_BIND: '' }).status).not.toBe(0);
  });
});

describe('.dockerignore', () => {
  it('keeps local installs, registries, artifacts, secrets, tests and tools out of every build context', () => {
    const samples = [
      'node_modules/sharp/package.json',
      'services/inference/node_modules/ajv/package.json',
      'models/resnet152/1/model.onnx',
      'artifacts/runs/x/weights.bin',
      'bench-results/service.json',
      '.env',
      'services/inference/.env',
      '.git/HEAD',
      'services/inference/test/server.test.ts',
      'training/test/train.test.ts',
      'services/inference/tools/bench/service.ts',
    ];
    expect([...buildContext(samples)]).toEqual([]);
  });
});
