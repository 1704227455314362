/**
 * The `scale` profile: two replicas of the service behind HAProxy, over one read-only registry.
 * Under a steady load through the balancer, replica 2 is stopped (`docker stop`: it drains), started,
 * then killed (`docker kill`: in-flight requests die with it) and started again: the balancer must
 * answer every request with 200 (its health checks and retries hide both), and send traffic to both
 * replicas once replica 2 is back. A version published into the registry must then be served by every
 * replica within the rescan interval (file-system events are off, as on a network file system).
 */
import { DOCKER, mustRun, sleep, waitFor } from './commands';
import type { ComposeProject } from './compose-project';
import { containerOf, models, waitHealthy, waitModelReady } from './containers';
import { formatSummary, postImage, steadyLoad, summarize, type Outcome, type SteadyLoad } from './http-load';
import { faceCrop } from '../helpers/images';

const LOAD_CONCURRENCY = 4;
const HEALTHY_WITHIN_MS = 60_000;
/** HAProxy sees a replica back after 2 good checks 1 s apart; allow for the service's start-up. */
const BACK_WITHIN_MS = 60_000;
const STEADY_MS = 2_000;
/** After discovery, loading and warming a small version up. */
const LOAD_SLACK_MS = 15_000;

export interface ScaleContext {
  project: ComposeProject;
  env: NodeJS.ProcessEnv;
  ports: { replica1: number; replica2: number; balancer: number };
  rescanMs: number;
}

export interface RunningFleet {
  load: SteadyLoad;
  balancerUrl: string;
}

/** `up -d balancer` (and its replicas), both healthy, both serving through the balancer. */
export async function upFleet(ctx: ScaleContext): Promise<string> {
  await ctx.project.compose(['up', '-d', '--no-build', 'balancer'], 120_000);
  const times = await Promise.all(
    ['inference-1', 'inference-2'].map(async (service) =>
      waitHealthy(await containerOf(ctx.project.compose, service), ctx.env, HEALTHY_WITHIN_MS),
    ),
  );
  const served = await servedByBoth(`http://127.0.0.1:${ctx.ports.balancer}/predict?crop=none`, Date.now());
  return `replicas healthy after ${times.map((t) => (t / 1000).toFixed(1)).join(' s, ')} s; balancer reached ${served}`;
}

/** Sends requests through the balancer until both replicas answered one (after `since`). */
async function servedByBoth(url: string, since: number, load?: SteadyLoad): Promise<string> {
  const image = await faceCrop('jpeg', 2);
  return waitFor('traffic on both replicas', BACK_WITHIN_MS, async () => {
    const recent: Outcome[] = load
      ? load.outcomes.filter((o) => o.startedAt >= since)
      : await Promise.all([0, 1, 2, 3].map(() => postImage(url, image)));
    const replicas = new Set(recent.filter((o) => o.status === 200).map((o) => o.servedBy));
    return replicas.has('replica-1') && replicas.has('replica-2')
      ? [...replicas].sort().join(' and ')
      : undefined;
  });
}

/** The failover scenario under load; resolves with the counts. */
export async function failover(ctx: ScaleContext): Promise<string> {
  const url = `http://127.0.0.1:${ctx.ports.balancer}/predict?crop=none`;
  const images = await Promise.all([0, 1, 2, 3].map((seed) => faceCrop('jpeg', seed)));
  let next = 0;
  const load = steadyLoad(() => postImage(url, images[next++ % images.length]), LOAD_CONCURRENCY, true);
  const notes: string[] = [];
  try {
    await sleep(STEADY_MS);
    const replica2 = await containerOf(ctx.project.compose, 'inference-2');
    for (const how of ['stop', 'kill'] as const) {
      const started = Date.now();
      await mustRun(DOCKER, [how, replica2], { env: ctx.env, timeoutMs: 60_000 });
      await sleep(STEADY_MS);
      // `restart: unless-stopped` leaves a stopped or killed container down; start it as an operator would.
      await mustRun(DOCKER, ['start', replica2], { env: ctx.env, timeoutMs: 60_000 });
      const restarted = Date.now();
      await servedByBoth(url, restarted, load);
      notes.push(
        `docker ${how}: both replicas serving again ${((Date.now() - started) / 1000).toFixed(1)} s later`,
      );
    }
  } finally {
    await load.stop();
  }
  const summary = summarize(load.outcomes);
  const failures = summary.sent - summary.ok;
  if (failures > 0) {
    const errors = load.outcomes.filter((o) => o.status !== 200).map((o) => o.error || `${o.status}`);
    throw new Error(
      `${failures} request(s) failed through the balancer: ${formatSummary(summary)} (${errors.join(', ')})`,
    );
  }
  return `${formatSummary(summary)}; ${notes.join('; ')}`;
}

/**
 * After `publish` wrote `model` v`version` into the shared registry: every replica lists it ready,
 * discovered by the rescan, and answers with it through the balancer.
 */
export async function versionOnEveryReplica(
  ctx: ScaleContext,
  model: string,
  version: number,
  publishedAt: number,
) {
  const replicas = [ctx.ports.replica1, ctx.ports.replica2].map((port) => `http://127.0.0.1:${port}`);
  const discoveredAfter = await Promise.all(
    replicas.map(async (base) => {
      await waitFor(`${model} listed by ${base}`, ctx.rescanMs + LOAD_SLACK_MS, async () =>
        (await models(base)).models.some(
          (m) => m.name === model && m.versions.some((v) => v.version === version),
        )
          ? true
          : undefined,
      );
      const listedMs = Date.now() - publishedAt;
      await waitModelReady(base, model, version, LOAD_SLACK_MS);
      return { listedMs, readyMs: Date.now() - publishedAt };
    }),
  );
  const late = discoveredAfter.filter((d) => d.listedMs > ctx.rescanMs + 1_000);
  if (late.length > 0) {
    throw new Error(
      `a replica found the version only after ${late[0].listedMs} ms (rescan interval ${ctx.rescanMs} ms)`,
    );
  }
  const image = await faceCrop('jpeg', 3);
  const url = `http://127.0.0.1:${ctx.ports.balancer}/predict?crop=none&model=${model}&version=${version}`;
  const servedBy = new Set<string>();
  for (let i = 0; i < 8 && servedBy.size < 2; i++) {
    const outcome = await postImage(url, image);
    if (outcome.status !== 200)
      throw new Error(`predict with ${model} v${version}: ${outcome.kind} ${outcome.status}`);
    servedBy.add(outcome.servedBy);
  }
  if (servedBy.size < 2)
    throw new Error(`only ${[...servedBy].join(', ')} answered with ${model} v${version}`);
  return (
    `${model} v${version} listed by each replica ${discoveredAfter.map((d) => `${(d.listedMs / 1000).toFixed(1)} s`).join(' and ')} ` +
    `after publishing (rescan every ${ctx.rescanMs / 1000} s, watch off), ready at ${discoveredAfter
      .map((d) => `${(d.readyMs / 1000).toFixed(1)} s`)
      .join(' and ')}; answered by ${[...servedBy].sort().join(' and ')}`
  );
}
