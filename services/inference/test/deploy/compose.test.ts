/**
 * docker-compose.yml, checked without a Docker engine: dclint (the Compose Specification's JSON schema
 * plus its best-practice rules), then Debian's docker-compose 1.29 resolves it (`config`: interpolation
 * with the defaults, merge keys, references), and the resolved services are compared with what they
 * run: the service's config schema, the Dockerfiles' build arguments, mounts and ports.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DCLinter } from 'dclint';
import YAML from 'yaml';
import { loadConfig } from '../../src/config';
import { REPO_ROOT } from '../helpers/test-models';
import {
  COMPOSE_FILE as TEST_BASE_FILE,
  loopbackOnly,
  TEST_OVERRIDE_FILE,
  TEST_SERVICES,
  testVariables,
  type ComposeConfig,
} from '../docker/compose-project';
import { argumentsText, finalStage, imageEnv, instructions, parseDockerfile } from './docker-files';
import { durationMs } from './durations';

const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
const PROFILES = ['gpu', 'scale', 'train', 'triton'];
/** The default registry of the repository, which every service mounts. */
const REGISTRY = path.join(REPO_ROOT, 'models');

interface ComposeService {
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  platform?: string;
  network_mode?: string;
  stop_grace_period?: string;
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
}

const HAS_COMPOSE_V1 = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
/** CI installs docker-compose (.ci/run); elsewhere the resolved-file checks skip with a message. */
const needsCompose = HAS_COMPOSE_V1 || process.env.CI ? describe : describe.skip;
if (!HAS_COMPOSE_V1 && !process.env.CI) {
  console.warn(
    'docker-compose not found (apt-get install docker-compose): skipping the resolved compose checks',
  );
}

/** The part of dclint's result we read (its published types do not resolve under NodeNext). */
interface LintResult {
  messages: { line: number; rule: string; message: string }[];
}

function lint(file: string): string[] {
  const linter = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] });
  const results = linter.lintFiles([file], false) as LintResult[];
  return results.flatMap((r) => r.messages.map((m) => `${m.line}: ${m.rule}: ${m.message}`));
}

describe('dclint', () => {
  it('finds no schema error and no rule violation in docker-compose.yml and the test override', () => {
    expect(lint(COMPOSE_FILE)).toEqual([]);
    expect(lint(TEST_OVERRIDE_FILE)).toEqual([]);
  });

  it('reports what the schema forbids (the check can fail)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-compose-'));
    try {
      const file = path.join(dir, 'docker-compose.yml');
      await writeFile(file, 'name: x\nservices:\n  app:\n    image: node:20\n    stop_grace_perid: 30s\n');
      expect(lint(file).join('\n')).toMatch(/invalid-schema/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

needsCompose('docker-compose.yml resolved by docker-compose config', () => {
  let services: Record<string, ComposeService>;

  beforeAll(async () => {
    // An empty env file and a bare environment: the defaults written in the file, not this machine's.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-compose-env-'));
    const envFile = path.join(dir, 'empty.env');
    await writeFile(envFile, '');
    try {
      const args = ['--project-directory', REPO_ROOT, '--env-file', envFile, '-f', COMPOSE_FILE];
      const output = execFileSync(
        'docker-compose',
        [...args, ...PROFILES.flatMap((p) => ['--profile', p]), 'config'],
        { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      services = (YAML.parse(output.toString()) as { services: Record<string, ComposeService> }).services;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const mounts = (service: ComposeService) =>
    (service.volumes ?? []).map((v) => {
      const [source, target, mode = 'rw'] = v.split(':');
      return { source, target, mode };
    });
  const hasGpu = (service: ComposeService) =>
    (service.deploy?.resources?.reservations?.devices ?? []).some(
      (d) => d.driver === 'nvidia' && d.capabilities.includes('gpu'),
    );
  const dockerfileOf = (service: ComposeService) => {
    expect(service.build?.context).toBe(REPO_ROOT);
    return parseDockerfile(path.basename(service.build!.dockerfile));
  };

  it('declares its services; only the CPU service starts without a profile', () => {
    expect(Object.keys(services).sort()).toEqual([
      'balancer',
      'inference',
      'inference-1',
      'inference-2',
      'inference-gpu',
      'trainer',
      'triton',
    ]);
    expect(services.inference.profiles).toBeUndefined();
    expect(services['inference-gpu'].profiles).toEqual(['gpu']);
    for (const name of ['balancer', 'inference-1', 'inference-2'])
      expect(services[name].profiles).toEqual(['scale']);
    expect(services.trainer.profiles).toEqual(['train']);
    expect(services.triton.profiles).toEqual(['triton']);
  });

  it('scale: replicas are the CPU service without published ports, behind a balancer on loopback', () => {
    const { inference, balancer } = services;
    const config = loadConfig({ ...imageEnv(finalStage(dockerfileOf(inference))), ...inference.environment });
    for (const name of ['inference-1', 'inference-2']) {
      const replica = services[name];
      expect(replica.build).toEqual(inference.build);
      expect(replica.environment).toEqual(inference.environment);
      expect(mounts(replica)).toEqual(mounts(inference));
      expect(replica.ports ?? []).toEqual([]);
      expect(durationMs(replica.stop_grace_period ?? '10s')).toBeGreaterThan(config.drainTimeoutMs);
    }
    // The balancer reaches each replica by its service name on the service's port.
    expect(balancer.environment).toMatchObject({
      REPLICA_1: `inference-1:${config.port}`,
      REPLICA_2: `inference-2:${config.port}`,
    });
    const [published] = (balancer.ports ?? []).map((p) => p.replace(/\/tcp$/, '').split(':'));
    expect(published).toEqual([
      '127.0.0.1',
      expect.any(String),
      balancer.environment?.BALANCER_BIND?.split(':')[1],
    ]);
    expect(path.basename(balancer.build!.dockerfile)).toBe('balancer.Dockerfile');
  });

  it('keeps the normal networking users expect: no service on the host network', () => {
    for (const service of Object.values(services)) expect(service.network_mode).toBeUndefined();
  });

  it('builds from Dockerfiles of docker/ and passes only build arguments they declare', () => {
    for (const service of Object.values(services).filter((s) => s.build)) {
      expect(existsSync(path.join(REPO_ROOT, service.build!.dockerfile))).toBe(true);
      const declared = dockerfileOf(service).args;
      for (const arg of Object.keys(service.build!.args ?? {})) expect(declared.has(arg)).toBe(true);
    }
  });

  it.each(['inference', 'inference-gpu'])(
    '%s: a valid service configuration, the registry read-only at REGISTRY_DIR, its port on loopback, time to drain',
    (name) => {
      const service = services[name];
      const config = loadConfig({ ...imageEnv(finalStage(dockerfileOf(service))), ...service.environment });
      expect(mounts(service)).toContainEqual({ source: REGISTRY, target: config.registry.dir, mode: 'ro' });
      const ports = (service.ports ?? []).map((p) => p.replace(/\/tcp$/, '').split(':'));
      expect(ports).toContainEqual(['127.0.0.1', expect.any(String), String(config.port)]);
      expect(durationMs(service.stop_grace_period ?? '10s')).toBeGreaterThan(config.drainTimeoutMs);
      expect(config.runtime.device).toBe(name === 'inference-gpu' ? 'cuda' : 'cpu');
      expect(hasGpu(service)).toBe(name === 'inference-gpu');
    },
  );

  it('the services publish different host ports (all can run)', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[1]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('trainer: a GPU, the train script, the dataset read-only at --data, the registry and artifacts writable', () => {
    const trainer = services.trainer;
    const dockerfile = dockerfileOf(trainer);
    const workdir = argumentsText(instructions(finalStage(dockerfile), 'WORKDIR').at(-1)!);
    expect(hasGpu(trainer)).toBe(true);
    expect(trainer.platform).toBe('linux/amd64');
    const command = trainer.command ?? [];
    expect(command[0]).toBe('training/src/cli/train.ts');
    const data = command[command.indexOf('--data') + 1];
    // train.ts publishes where --registry says (a scratch registry under artifacts/ without it),
    // relative to the working directory, and checkpoints into <repo>/artifacts.
    const registry = command[command.indexOf('--registry') + 1];
    expect(mounts(trainer)).toEqual(
      expect.arrayContaining([
        { source: expect.any(String), target: data, mode: 'ro' },
        { source: REGISTRY, target: path.posix.join(workdir, registry), mode: 'rw' },
        {
          source: path.join(REPO_ROOT, 'artifacts'),
          target: path.posix.join(workdir, 'artifacts'),
          mode: 'rw',
        },
      ]),
    );
    const graceMs = durationMs(trainer.stop_grace_period ?? '10s');
    expect(graceMs).toBeGreaterThanOrEqual(60_000);
  });

  it('triton: serves the same registry read-only as its model repository, on a GPU', () => {
    const triton = services.triton;
    expect(triton.image).toMatch(/^nvcr\.io\/nvidia\/tritonserver:\d+\.\d+-py3$/);
    const repository = (triton.command ?? []).find((a) => a.startsWith('--model-repository='))?.split('=')[1];
    expect(mounts(triton)).toContainEqual({ source: REGISTRY, target: repository, mode: 'ro' });
    expect(hasGpu(triton)).toBe(true);
  });
});

needsCompose('docker/compose.test.yml over docker-compose.yml (npm run test:docker)', () => {
  let resolved: ComposeConfig;
  const ports = { service: 18080, replica1: 18091, replica2: 18092, balancer: 18090 };

  beforeAll(() => {
    const output = execFileSync(
      'docker-compose',
      ['-f', TEST_BASE_FILE, '-f', TEST_OVERRIDE_FILE, '--profile', 'scale', 'config'],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', ...testVariables(ports, '/tmp/registry', 2000) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    resolved = YAML.parse(output.toString()) as ComposeConfig;
  });

  it('puts every test container on the host network, bound to 127.0.0.1 at its own port', () => {
    const config = loopbackOnly(resolved, TEST_SERVICES);
    const env = (name: string) => config.services[name].environment ?? {};
    expect(env('inference').PORT).toBe(String(ports.service));
    expect(env('inference-1').PORT).toBe(String(ports.replica1));
    expect(env('inference-2').PORT).toBe(String(ports.replica2));
    expect(env('balancer')).toMatchObject({
      BALANCER_BIND: `127.0.0.1:${ports.balancer}`,
      REPLICA_1: `127.0.0.1:${ports.replica1}`,
      REPLICA_2: `127.0.0.1:${ports.replica2}`,
    });
  });

  it("gives the replicas the test's registry read-only, discovered by rescans only", () => {
    for (const name of ['inference-1', 'inference-2']) {
      const service = resolved.services[name];
      expect(service.volumes).toEqual(['/tmp/registry:/models:ro']);
      expect(service.environment).toMatchObject({ REGISTRY_WATCH: 'false', REGISTRY_RESCAN_MS: '2000' });
    }
  });

  it('fails without the variables the test sets', () => {
    const result = spawnSync('docker-compose', ['-f', TEST_BASE_FILE, '-f', TEST_OVERRIDE_FILE, 'config'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/set by npm run test:docker/);
  });
});
