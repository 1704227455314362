/**
 * The service under soak as its own process (`node --import tsx src/server.ts`, what `npm start`
 * runs) on a free loopback port, logging warnings and errors only (kept for the report).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const SERVER = path.resolve(__dirname, '../../src/server.ts');
/** Loading a full-size backbone and warming up the detector on a busy 2-core machine. */
export const START_TIMEOUT_MS = 300_000;
const POLL_MS = 250;

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
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((line) => line.trim() !== ''));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited during start-up:\n${lines.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready within ${START_TIMEOUT_MS} ms:\n${lines.join('\n')}`);
    }
    const status = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return {
    url,
    child,
    problems: () => [...lines],
    stop: async () => {
      const started = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      return { code, drainMs: Date.now() - started };
    },
  };
}
