/**
 * `npm run test:docker`: builds every image CI can build here and runs them, each step timed.
 *
 *   npm run test:docker
 *
 * 1. A Docker engine: the running one, else a dockerd of its own (no bridge, no iptables; stopped at
 *    the end, also on failure). Without one, the test skips with the reason, unless
 *    FER_DOCKER_TEST_REQUIRED=1 (CI), where that is a failure.
 * 2. The base images, pulled or else built as stand-ins (base-images.ts).
 * 3. The service and balancer images through docker-compose (BuildKit, host network), the trainer
 *    image beside them; the service image's layers and their sizes.
 * 4. The service as users start it (service-check.ts), then the `scale` profile (scale-check.ts), and
 *    the trainer publishing a version that every replica picks up (trainer-check.ts).
 * Every container runs with host networking on 127.0.0.1 (docker/compose.test.yml); test traffic
 * never leaves loopback. Everything is torn down at the end.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/test-models';
import { parseDockerfile } from '../deploy/docker-files';
import { ensureBaseImages } from './base-images';
import { connectOrStartDaemon, type Daemon } from './docker-daemon';
import {
  freePort,
  testComposeProject,
  testVariables,
  TEST_SERVICES,
  type ComposeProject,
} from './compose-project';
import { formatLayers, layers, SERVICE_IMAGE_LIMIT_BYTES } from './image-report';
import { answers, stopUnderLoad, upHealthy } from './service-check';
import { failover, upFleet, versionOnEveryReplica } from './scale-check';
import { buildTrainer, TRAINED_MODEL, trainInContainer, writeDataset } from './trainer-check';
import { Steps, summaryLines } from './steps';

/** The replicas' registry rescan in this test (file-system events off). */
const RESCAN_MS = 3_000;
/**
 * Safety nets, not targets: the whole run is stopped (and cleaned up) past this. On the shared,
 * loaded development machine a build alone once took over 7 minutes.
 */
const OVERALL_TIMEOUT_MS = Number(process.env.FER_DOCKER_TEST_TIMEOUT_MS ?? 30 * 60_000);
const BUILD_TIMEOUT_MS = 900_000;

/** Every base image the Dockerfiles start from (build-argument defaults). */
function baseImages(): string[] {
  const names = new Set<string>();
  for (const file of ['service.Dockerfile', 'balancer.Dockerfile', 'train-gpu.Dockerfile']) {
    const dockerfile = parseDockerfile(file);
    for (const arg of ['NODE_IMAGE', 'DEBIAN_IMAGE']) {
      const value = dockerfile.args.get(arg);
      if (value) names.add(value);
    }
  }
  return [...names];
}

async function main(): Promise<number> {
  const started = Date.now();
  const steps = new Steps();
  let daemon: Daemon | undefined;
  let project: ComposeProject | undefined;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'fer-docker-test-'));

  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (project) {
        const p = project;
        if (steps.failed) {
          // What the containers said is the first thing to read when a step failed.
          const logs = await p
            .compose(['logs', '--no-color', '--tail', '60'], 60_000)
            .catch((e: Error) => e.message);
          console.log(`--- container logs (last 60 lines each) ---\n${logs}\n---`);
        }
        await steps.run(
          'tear down: docker-compose down',
          async () => void (await p.compose(['down', '-v', '-t', '30'], 120_000)),
          true,
        );
      }
      if (daemon?.own) {
        const d = daemon;
        await steps.run('stop dockerd, undo its mounts', async () => (await d.stop()).join('; '), true);
      }
      await rm(workDir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(1));
    });
  }
  const watchdog = setTimeout(() => {
    console.log(`\nthe Docker test ran past ${OVERALL_TIMEOUT_MS} ms: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, OVERALL_TIMEOUT_MS);
  watchdog.unref();

  try {
    let unavailable = '';
    await steps.run('Docker engine', async () => {
      const result = await connectOrStartDaemon();
      if ('unavailable' in result) {
        unavailable = result.unavailable;
        if (process.env.FER_DOCKER_TEST_REQUIRED === '1') throw new Error(unavailable);
        return `none: ${unavailable}`;
      }
      daemon = result;
      return result.own
        ? 'own dockerd (--bridge=none --iptables=false), containers on host networking'
        : 'the running daemon';
    });
    if (unavailable && !steps.failed) {
      console.log(`docker: skipped: no Docker engine could be started here (${unavailable.split('\n')[0]})`);
      return 0;
    }
    const env = daemon?.env ?? {};
    const ports = {
      service: await freePort(),
      replica1: await freePort(),
      replica2: await freePort(),
      balancer: await freePort(),
    };
    const registry = path.join(workDir, 'registry');
    await cp(path.join(REPO_ROOT, 'models'), registry, { recursive: true });

    await steps.run('base images', async () => (await ensureBaseImages(baseImages(), env)).join('; '));

    let trainerBuild: Promise<string | Error> | undefined;
    await steps.run('build service and balancer images (trainer image alongside)', async () => {
      project = await testComposeProject(env, testVariables(ports, registry, RESCAN_MS), workDir);
      trainerBuild = buildTrainer(env, 'debian:bookworm-slim').catch((error: Error) => error);
      await project.compose(['build', ...TEST_SERVICES], BUILD_TIMEOUT_MS);
      return `${project.name}_inference, ${project.name}_balancer`;
    });

    await steps.run('service image size by layer', async () => {
      const list = await layers(`${project!.name}_inference`, env);
      const total = list.reduce((sum, l) => sum + l.bytes, 0);
      console.log(formatLayers(list).join('\n'));
      if (total > SERVICE_IMAGE_LIMIT_BYTES) {
        throw new Error(
          `${(total / 1e6).toFixed(1)} MB, above the ${SERVICE_IMAGE_LIMIT_BYTES / 1e6} MB target`,
        );
      }
      return `${(total / 1e6).toFixed(1)} MB (target ≤ ${SERVICE_IMAGE_LIMIT_BYTES / 1e6} MB)`;
    });

    const service = () => ({ project: project!, env, port: ports.service });
    await steps.run('service: docker-compose up -d inference, healthy', () => upHealthy(service()));
    await steps.run('service: POST /predict, GET /models', () => answers(service()));
    await steps.run('service: docker-compose stop under load', () => stopUnderLoad(service()));
    await steps.run(
      'service: docker-compose down',
      async () => void (await project!.compose(['down', '-t', '30'], 120_000)),
    );

    const scale = () => ({ project: project!, env, ports, rescanMs: RESCAN_MS });
    await steps.run('scale: up balancer with 2 replicas', () => upFleet(scale()));
    await steps.run('scale: docker stop, docker kill a replica under load', () => failover(scale()));

    await steps.run('trainer: image built', async () => {
      const result = await trainerBuild!;
      if (result instanceof Error) throw result;
      const list = await layers('fer-docker-test-trainer', env);
      return `${result}; ${(list.reduce((s, l) => s + l.bytes, 0) / 1e6).toFixed(1)} MB`;
    });
    let published = { version: 0, at: 0 };
    await steps.run(
      `trainer: npm run train (${TRAINED_MODEL}, 1 epoch) into the replicas' registry`,
      async () => {
        const dataset = path.join(workDir, 'dataset');
        await writeDataset(dataset);
        const { version, log } = await trainInContainer(env, {
          dataset,
          registry,
          artifacts: path.join(workDir, 'artifacts'),
        });
        const metadata = JSON.parse(
          await readFile(path.join(registry, TRAINED_MODEL, String(version), 'metadata.json'), 'utf8'),
        ) as { created_at?: string; training?: { backend?: string } };
        published = { version, at: metadata.created_at ? Date.parse(metadata.created_at) : Date.now() };
        const backend =
          /"msg":"TF.js backend selected"[^}]*"backend":"(\w+)"/.exec(log)?.[1] ?? metadata.training?.backend;
        return `${TRAINED_MODEL} v${version} published (TF.js backend ${backend ?? 'not logged'})`;
      },
    );
    await steps.run('scale: the new version on every replica', () =>
      versionOnEveryReplica(scale(), TRAINED_MODEL, published.version, published.at),
    );
  } finally {
    await cleanup();
  }
  console.log(summaryLines(steps.results, Date.now() - started).join('\n'));
  return steps.failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
