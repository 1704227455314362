/**
 * The service image as users run it: `docker-compose up -d inference` (the repository's compose file,
 * its registry ./models read-only), healthy by Docker's HEALTHCHECK, answering POST /predict and
 * GET /models as openapi.yaml says, then `docker-compose stop` under load: exit code 0 and every
 * request the service accepted answered.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { faceCrop, HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';
import { checkResponse } from '../helpers/openapi';
import { REPO_ROOT } from '../helpers/test-models';
import { DOCKER, mustRun, sleep } from './commands';
import type { ComposeProject } from './compose-project';
import { containerOf, inspectState, models, waitHealthy, waitModelReady } from './containers';
import { formatSummary, postImage, steadyLoad, summarize, type Outcome } from './http-load';

/** The issue's bound: healthy within 30 s of `up`. */
export const HEALTHY_WITHIN_MS = 30_000;
const MODEL_READY_WITHIN_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;
/** Requests in flight while the container is stopped. */
const STOP_LOAD_CONCURRENCY = 4;
const LOAD_BEFORE_STOP_MS = 1_500;
/** A photo of ../shared/photos with one clear face. */
const PHOTO = 'faceapi_angry.jpg';

/** The models and versions shipped in the repository's registry. */
export function shippedModels(registry = path.join(REPO_ROOT, 'models')): Map<string, number[]> {
  const shipped = new Map<string, number[]>();
  for (const entry of readdirSync(registry, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const versions = readdirSync(path.join(registry, entry.name))
      .filter((v) => /^\d+$/.test(v))
      .map(Number);
    if (versions.length > 0) shipped.set(entry.name, versions);
  }
  return shipped;
}

/** The x-request-ids of every request the service in container `id` logged as incoming. */
async function requestsSeen(id: string, env: NodeJS.ProcessEnv): Promise<Set<string>> {
  const logs = await mustRun(DOCKER, ['logs', id], { env, timeoutMs: 30_000 });
  const seen = new Set<string>();
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; reqId?: string };
      if (entry.msg === 'incoming request' && entry.reqId) seen.add(entry.reqId);
    } catch {
      // Not a log line of the service.
    }
  }
  return seen;
}

/** The `error.code` of an API error answer ('' for anything else). */
function errorCode(outcome: Outcome): string {
  return (outcome.body as { error?: { code?: string } } | null)?.error?.code ?? '';
}

function expectAnswer(what: string, outcome: Outcome, url: string): { faces: unknown[] } {
  if (outcome.kind !== 'answered' || outcome.status !== 200) {
    throw new Error(
      `${what}: ${outcome.kind} ${outcome.status} ${outcome.error} ${JSON.stringify(outcome.body)}`,
    );
  }
  checkResponse('POST', new URL(url).pathname, {
    status: outcome.status,
    headers: outcome.headers,
    body: outcome.body,
  });
  return outcome.body as { faces: unknown[] };
}

export interface ServiceContext {
  project: ComposeProject;
  env: NodeJS.ProcessEnv;
  port: number;
}

/** `up -d inference`, healthy within 30 s; resolves with what it measured. */
export async function upHealthy(ctx: ServiceContext): Promise<string> {
  await ctx.project.compose(['up', '-d', '--no-build', 'inference'], 120_000);
  const id = await containerOf(ctx.project.compose, 'inference');
  const healthyMs = await waitHealthy(id, ctx.env, HEALTHY_WITHIN_MS);
  return `healthy ${(healthyMs / 1000).toFixed(1)} s after up (bound ${HEALTHY_WITHIN_MS / 1000} s)`;
}

/**
 * POST /predict with a generated face and a real photo, GET /models with every shipped version,
 * GET /study/study.json (the committed study page).
 */
export async function answers(ctx: ServiceContext): Promise<string> {
  const base = `http://127.0.0.1:${ctx.port}`;
  const shipped = shippedModels();
  const view = await models(base);
  const defaultModel = view.default_model ?? '';
  await waitModelReady(
    base,
    defaultModel,
    Math.max(...(shipped.get(defaultModel) ?? [1])),
    MODEL_READY_WITHIN_MS,
  );

  const faceUrl = `${base}/predict?crop=none`;
  const face = expectAnswer('generated face', await postImage(faceUrl, await faceCrop('jpeg', 1)), faceUrl);
  if (face.faces.length !== 1) throw new Error(`crop=none gave ${face.faces.length} faces, not 1`);
  let photoNote = `no ../shared/photos: ${PHOTO} not sent`;
  if (HAVE_PHOTOS) {
    const photoUrl = `${base}/predict`;
    const photo = expectAnswer(
      PHOTO,
      await postImage(photoUrl, readFileSync(path.join(PHOTOS_DIR, PHOTO))),
      photoUrl,
    );
    if (photo.faces.length < 1) throw new Error(`${PHOTO}: no face found`);
    photoNote = `${PHOTO}: ${photo.faces.length} face(s)`;
  }

  const listed = await models(base);
  for (const [name, versions] of shipped) {
    const model = listed.models.find((m) => m.name === name);
    for (const version of versions) {
      const status = model?.versions.find((v) => v.version === version)?.status;
      if (status !== 'ready') throw new Error(`GET /models: ${name} v${version} is ${status ?? 'missing'}`);
    }
  }
  // The committed study page travels in the image (COPY docs/study/): the Models view shows it.
  const study = await fetch(`${base}/study/study.json`);
  if (study.status !== 200) throw new Error(`GET /study/study.json answered ${study.status}, not 200`);
  const rows = ((await study.json()) as { rows?: unknown[] }).rows?.length ?? 0;
  return `predict 200 (generated face; ${photoNote}); /models lists ${[...shipped.keys()].join(', ')}, all ready; /study has ${rows} models`;
}

/** `docker-compose stop inference` while requests run: exit code 0, nothing accepted is lost. */
export async function stopUnderLoad(ctx: ServiceContext): Promise<string> {
  const url = `http://127.0.0.1:${ctx.port}/predict?crop=none`;
  const images = await Promise.all([0, 1, 2, 3].map((seed) => faceCrop('jpeg', seed)));
  let next = 0;
  const load = steadyLoad(
    () => postImage(url, images[next % images.length], `docker-test-stop-${next++}`),
    STOP_LOAD_CONCURRENCY,
    false,
  );
  await sleep(LOAD_BEFORE_STOP_MS);
  const id = await containerOf(ctx.project.compose, 'inference');
  const stopStarted = Date.now();
  await ctx.project.compose(['stop', 'inference'], STOP_TIMEOUT_MS);
  const stopMs = Date.now() - stopStarted;
  const outcomes = await load.stop();
  const summary = summarize(outcomes);
  const state = await inspectState(id, ctx.env);
  // A request counts as lost if the service read it (its log has the request's id) and never answered.
  // A connection reset before that was still in the kernel's queue when the listener closed: the
  // service never saw it, like a refused one; a client of a single instance retries it.
  const seen = await requestsSeen(id, ctx.env);
  const lost = outcomes.filter((o) => o.kind === 'lost' && seen.has(o.requestId));
  const unread = outcomes.filter((o) => o.kind === 'lost' && !seen.has(o.requestId));
  // Requests read after the drain began are turned away with the API's 503 NOT_READY: an answer.
  const turnedAway = outcomes.filter((o) => o.status === 503 && errorCode(o) === 'NOT_READY');
  const failed = outcomes.filter((o) => o.kind === 'answered' && o.status !== 200 && !turnedAway.includes(o));
  const problems = [
    state.exitCode !== 0 && `exit code ${state.exitCode}`,
    lost.length > 0 &&
      `${lost.length} request(s) the service read were lost (${lost.map((o) => o.error).join(', ')})`,
    failed.length > 0 &&
      `answers other than 200: ${failed.map((o) => `${o.status} ${errorCode(o)}`).join(', ')}`,
    summary.ok === 0 && 'no request answered before the stop',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${problems.join('; ')} (${formatSummary(summary)})`);
  return (
    `exit code 0 after ${(stopMs / 1000).toFixed(1)} s; ${formatSummary(summary)}: none of the requests the ` +
    `service read was lost; ${turnedAway.length} answered 503 NOT_READY while draining; after the listener ` +
    `closed ${summary.refused} refused, ${unread.length} reset unread (${unread.map((o) => o.error).join(', ') || '-'})`
  );
}
