/**
 * The service under benchmark as its own process (`node --import tsx src/server.ts`, exactly what
 * `npm start` runs), so the load generator and the service do not share an event loop.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnServer, waitUntilReady } from '../server-process';

/** Loading resnet152 and warming up the detector on a busy 2-core machine. */
export const SERVICE_START_TIMEOUT_MS = 180_000;

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
  const server = spawnServer({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    RATE_LIMIT_MAX: '0',
    ...env,
  });
  const url = await waitUntilReady(server, SERVICE_START_TIMEOUT_MS);
  return {
    url,
    child: server.child,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    stop: async () => {
      server.child.kill('SIGTERM');
      await server.exited;
    },
  };
}
