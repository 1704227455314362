/**
 * The service as its own process (`node --import tsx src/server.ts`, exactly what `npm start`
 * runs), for the tests and tools that need a real process: signals, exit codes, start-up
 * (`spawnServer`, `waitUntilReady`), or a load generator that must not share the service's event
 * loop (`startService`: the benchmarks, the soak and the abuse run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const SERVER = path.resolve(__dirname, '../src/server.ts');
const READY_POLL_MS = 200;

export interface ServerProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Its base URL: from PORT when fixed, else from the "Server listening" log line ('' until then). */
  url(): string;
}

/**
 * Starts the service with exactly `env` (callers pass on what they want of process.env).
 *
 * @example const server = spawnServer({ PATH: process.env.PATH ?? '', PORT: '0', REGISTRY_DIR: dir });
 */
export function spawnServer(env: NodeJS.ProcessEnv): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = Number(env.PORT ?? 0);
  const fixed = port > 0 ? `http://${env.HOST ?? '127.0.0.1'}:${port}` : '';
  const url = () => fixed || (/Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '');
  return { child, output: () => output, exited, url };
}

/**
 * Resolves to the server's URL once GET /readyz answers 200.
 *
 * @throws Error with its output when it exits first or is not ready within `timeoutMs` (then killed).
 */
export async function waitUntilReady(server: ServerProcess, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null)
      throw new Error(`the service exited during start-up:\n${server.output()}`);
    if (Date.now() > deadline) {
      server.child.kill('SIGKILL');
      throw new Error(`the service was not ready within ${timeoutMs} ms:\n${server.output()}`);
    }
    const url = server.url();
    const status = url
      ? await fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0,
        )
      : 0;
    if (status === 200) return url;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

/** Loading a full-size backbone and warming up the detector on a busy 2-core machine. */
export const SERVICE_START_TIMEOUT_MS = 300_000;

/** A started service under benchmark, soak or abuse. */
export interface RunningService {
  url: string;
  child: ChildProcess;
  /** The whole lines the service logged so far (at LOG_LEVEL warn: its warnings and errors). */
  logLines(): string[];
  /** GET /metrics as text. */
  metrics(): Promise<string>;
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
 * Starts the service on a free loopback port, without a rate limit, logging at `logLevel`, with
 * process.env and `env` on top; resolves once /readyz answers 200.
 *
 * @example const service = await startService({ REGISTRY_DIR: dir, BATCH_MAX_SIZE: '1' });
 */
export async function startService(
  env: Record<string, string>,
  { logLevel = 'warn', timeoutMs = SERVICE_START_TIMEOUT_MS }: { logLevel?: string; timeoutMs?: number } = {},
): Promise<RunningService> {
  // A fixed port: at LOG_LEVEL warn the service does not log where it listens.
  const port = await freePort();
  const server = spawnServer({
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: logLevel,
    RATE_LIMIT_MAX: '0',
    ...env,
  });
  const url = await waitUntilReady(server, timeoutMs);
  return {
    url,
    child: server.child,
    // Whole lines only: the last piece may still be partly written.
    logLines: () =>
      server
        .output()
        .split('\n')
        .slice(0, -1)
        .filter((line) => line.trim() !== ''),
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    stop: async () => {
      const started = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      return { code, drainMs: Date.now() - started };
    },
  };
}
