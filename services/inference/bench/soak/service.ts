/**
 * The service under soak as its own process (`node --import tsx src/server.ts`, what `npm start`
 * runs) on a free loopback port, logging warnings and errors only (kept for the report).
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { spawnServer, waitUntilReady } from '../../scripts/server-process';

/** Loading a full-size backbone and warming up the detector on a busy 2-core machine. */
export const START_TIMEOUT_MS = 300_000;

export interface SoakService {
  url: string;
  child: ChildProcess;
  /** Warning and error lines the service logged so far. */
  problems(): string[];
  /** SIGTERM, then the exit code and how long the drain took. */
  stop(): Promise<{ code: number | null; drainMs: number }>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the service with `env` and resolves once /readyz answers 200.
 *
 * @example const service = await startSoakService({ REGISTRY_DIR: dir });
 */
export async function startSoakService(env: Record<string, string>): Promise<SoakService> {
  // A fixed port: at LOG_LEVEL warn the service does not log where it listens.
  const port = await freePort();
  const server = spawnServer({
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    ...env,
  });
  const url = await waitUntilReady(server, START_TIMEOUT_MS);
  return {
    url,
    child: server.child,
    // Whole lines only: the last piece may still be partly written.
    problems: () =>
      server
        .output()
        .split('\n')
        .slice(0, -1)
        .filter((line) => line.trim() !== ''),
    stop: async () => {
      const started = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      return { code, drainMs: Date.now() - started };
    },
  };
}
