/**
 * The compose project of the Docker test: docker-compose.yml as users run it, merged by docker-compose
 * itself with the test override docker/compose.test.yml (host networking, loopback addresses, the
 * test's registry), then reduced to the services the test runs and stripped of published `ports`.
 * That last step is the one an override cannot do: Compose v1 concatenates `ports` across files, and
 * it refuses published ports on a host-network container (host networking ignores them anyway).
 */
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from '../helpers/test-models';
import { DOCKER_COMPOSE, mustRun } from './commands';

export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
export const TEST_OVERRIDE_FILE = path.join(REPO_ROOT, 'docker', 'compose.test.yml');
/** The services the test runs, all from docker-compose.yml. */
export const TEST_SERVICES = ['inference', 'inference-1', 'inference-2', 'balancer'] as const;

export interface ComposeService {
  build?: { context: string; dockerfile: string; network?: string; args?: Record<string, string> };
  image?: string;
  environment?: Record<string, string>;
  network_mode?: string;
  networks?: unknown;
  ports?: unknown[];
  volumes?: string[];
  profiles?: string[];
  depends_on?: unknown;
  [key: string]: unknown;
}

export interface ComposeConfig {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

/** The loopback ports the test's containers listen on, chosen free on this machine. */
export interface TestPorts {
  service: number;
  replica1: number;
  replica2: number;
  balancer: number;
}

/** The variables compose.test.yml reads. */
export function testVariables(ports: TestPorts, registry: string, rescanMs: number): Record<string, string> {
  return {
    FER_TEST_SERVICE_PORT: String(ports.service),
    FER_TEST_REPLICA_1_PORT: String(ports.replica1),
    FER_TEST_REPLICA_2_PORT: String(ports.replica2),
    FER_TEST_BALANCER_PORT: String(ports.balancer),
    FER_TEST_REGISTRY: registry,
    FER_TEST_RESCAN_MS: String(rescanMs),
  };
}

/**
 * The resolved configuration reduced to `services`, without published ports; throws when one of
 * them would not run on the host's loopback (not host networking, not bound to 127.0.0.1, built
 * without host networking).
 *
 * @example loopbackOnly(resolved, ['inference']).services.inference.ports // undefined
 */
export function loopbackOnly(resolved: ComposeConfig, services: readonly string[]): ComposeConfig {
  const kept: Record<string, ComposeService> = {};
  for (const name of services) {
    const service = resolved.services[name];
    if (!service) throw new Error(`the compose files have no service ${name}`);
    const problems = [
      service.network_mode !== 'host' && 'not on host networking',
      service.networks !== undefined && 'attached to networks',
      service.build && service.build.network !== 'host' && 'built without host networking',
      !loopbackBinding(service.environment ?? {}) && 'not bound to 127.0.0.1',
    ].filter(Boolean);
    if (problems.length > 0) throw new Error(`${name}: ${problems.join(', ')}`);
    const copy = { ...service };
    delete copy.ports;
    kept[name] = copy;
  }
  const config: ComposeConfig = { ...resolved, services: kept };
  delete config.networks;
  return config;
}

/** True when the environment makes the service or the balancer listen on 127.0.0.1 only. */
function loopbackBinding(env: Record<string, string>): boolean {
  if ('BALANCER_BIND' in env) return env.BALANCER_BIND.startsWith('127.0.0.1:');
  return env.HOST === '127.0.0.1';
}

/** A TCP port nobody listens on at 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ComposeProject {
  name: string;
  /** The file docker-compose runs with (written into the test's folder). */
  file: string;
  /** Runs `docker-compose -p <name> -f <file> <args>`; resolves with stdout. */
  compose(args: readonly string[], timeoutMs: number): Promise<string>;
}

/**
 * Resolves the compose files with the test's variables and writes the file the test runs.
 *
 * @example const project = await testComposeProject(daemon.env, ports, registry, 2000, workDir);
 */
export async function testComposeProject(
  daemonEnv: NodeJS.ProcessEnv,
  variables: Record<string, string>,
  workDir: string,
): Promise<ComposeProject> {
  const env = { ...daemonEnv, ...variables };
  const resolved = YAML.parse(
    await mustRun(
      DOCKER_COMPOSE,
      ['-f', COMPOSE_FILE, '-f', TEST_OVERRIDE_FILE, '--profile', 'scale', 'config'],
      { cwd: REPO_ROOT, env, timeoutMs: 60_000 },
    ),
  ) as ComposeConfig;
  const file = path.join(workDir, 'docker-compose.test.yml');
  await writeFile(file, YAML.stringify(loopbackOnly(resolved, TEST_SERVICES)));
  const name = `fer-docker-test-${process.pid}`;
  return {
    name,
    file,
    compose: (args, timeoutMs) =>
      mustRun(
        DOCKER_COMPOSE,
        ['-p', name, '--project-directory', REPO_ROOT, '-f', file, '--profile', 'scale', ...args],
        {
          cwd: REPO_ROOT,
          env,
          timeoutMs,
        },
      ),
  };
}
