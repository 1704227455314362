/**
 * What the Docker test asks of running containers and of the service inside them: health as Docker
 * sees it, exit codes, and the service's own view of its models.
 */
import { DOCKER, mustRun, waitFor } from './commands';
import { getJson } from './http-load';

/** The container id of a compose service (the first one). */
export async function containerOf(
  compose: (args: string[], timeoutMs: number) => Promise<string>,
  service: string,
) {
  const id = (await compose(['ps', '-q', service], 30_000)).trim().split('\n')[0];
  if (!id) throw new Error(`no container for ${service}`);
  return id;
}

/** Docker's view of a container: its state, health and exit code. */
export async function inspectState(
  id: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: string; health: string; exitCode: number }> {
  const text = await mustRun(
    DOCKER,
    [
      'inspect',
      '-f',
      '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}',
      id,
    ],
    { env, timeoutMs: 20_000 },
  );
  const [status, health, exitCode] = text.trim().split('|');
  return { status, health, exitCode: Number(exitCode) };
}

/** Resolves with the milliseconds it took for Docker's HEALTHCHECK to report the container healthy. */
export async function waitHealthy(id: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(`container ${id.slice(0, 12)} healthy`, timeoutMs, async () => {
    const state = await inspectState(id, env);
    if (state.status === 'exited') throw new Error(`it exited with code ${state.exitCode}`);
    return state.health === 'healthy' ? true : undefined;
  });
  return Date.now() - started;
}

export interface ModelsView {
  default_model: string | null;
  models: { name: string; versions: { version: number; status: string }[] }[];
}

/** GET /models of the service at `baseUrl`. */
export async function models(baseUrl: string): Promise<ModelsView> {
  const outcome = await getJson(`${baseUrl}/models`, 10_000);
  if (outcome.kind !== 'answered' || outcome.status !== 200) {
    throw new Error(`GET /models: ${outcome.kind} ${outcome.status} ${outcome.error}`);
  }
  return outcome.body as ModelsView;
}

/** Resolves once `version` of `model` is ready at `baseUrl`, with the time it took. */
export async function waitModelReady(
  baseUrl: string,
  model: string,
  version: number,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  await waitFor(`${model} v${version} ready at ${baseUrl}`, timeoutMs, async () => {
    const view = await models(baseUrl);
    const status = view.models
      .find((m) => m.name === model)
      ?.versions.find((v) => v.version === version)?.status;
    if (status === 'failed') throw new Error(`${model} v${version} failed to load`);
    return status === 'ready' ? true : undefined;
  });
  return Date.now() - started;
}
