/**
 * The service as its own process (`node --import tsx src/server.ts`, exactly what `npm start`
 * runs), for the tests and benchmarks that need a real process: signals, exit codes, start-up, or a
 * load generator that must not share the service's event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
