/**
 * The service under benchmark as its own process (`node --import tsx src/server.ts`, exactly what
 * `npm start` runs), so the load generator and the service do not share an event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const SERVER = path.resolve(__dirname, '../../src/server.ts');
/** Loading resnet152 and warming up the detector on a busy 2-core machine. */
export const SERVICE_START_TIMEOUT_MS = 180_000;
const POLL_MS = 200;

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** GET /metrics as text. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the service with `env` (on a free loopback port) and resolves when /readyz says ready.
 *
 * @example const service = await startServiceProcess({ REGISTRY_DIR: dir, BATCH_MAX_SIZE: '1' });
 */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_MAX: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
  let url = '';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited during start-up:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready within ${SERVICE_START_TIMEOUT_MS} ms:\n${output}`);
    }
    url ||= /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
    if (
      url &&
      (await fetch(`${url}/readyz`)
        .then((r) => r.status)
        .catch(() => 0)) === 200
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return {
    url,
    child,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
