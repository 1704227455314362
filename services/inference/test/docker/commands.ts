/**
 * Running the command-line tools of the Docker test (docker, docker-compose, debootstrap, npm) as child
 * processes with a deadline, their output captured, and a failure that quotes it.
 */
import { spawn } from 'node:child_process';

/** Debian's client: /usr/local/bin may hold another docker CLI without the legacy builder or compose. */
export const DOCKER = '/usr/bin/docker';
export const DOCKER_COMPOSE = '/usr/bin/docker-compose';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL) after this long; the error says so. */
  timeoutMs: number;
  /** Bytes written to stdin, then closed. */
  input?: Buffer | string;
  /** Print the output as it comes (long builds), besides capturing it. */
  echo?: boolean;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command that failed, with the end of what it printed. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
    reason: string,
  ) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-25).join('\n');
    super(`${command}: ${reason}\n${tail}`);
    this.name = 'CommandError';
  }
}

/**
 * Runs a command and resolves with its output, whatever its exit code.
 *
 * @example const { code, stdout } = await runCommand('docker', ['version'], { timeoutMs: 10_000 });
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (timedOut) {
        reject(
          new CommandError(`${command} ${args.join(' ')}`, result, `no end within ${options.timeoutMs} ms`),
        );
      } else {
        resolve(result);
      }
    });
    // A command that never reads its input may close it first: not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs a command that must succeed; resolves with its stdout.
 *
 * @throws CommandError with the end of its output when it exits non-zero or runs out of time.
 */
export async function mustRun(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    throw new CommandError(`${command} ${args.join(' ')}`, result, `exit code ${result.code}`);
  }
  return result.stdout;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a value other than undefined, or throws after `timeoutMs` with the
 * last reason `check` gave.
 *
 * @example const url = await waitFor('replica ready', 30_000, async () => (await isReady()) ? url : undefined);
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}`);
    }
    await sleep(intervalMs);
  }
}
