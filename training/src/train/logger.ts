/**
 * The job's structured log (pino, JSON lines on stdout by default). Built once by the CLI and
 * passed down; tests pass a silent one.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** The `job` field of every line: 'train' or 'evaluate'. */
  job: string;
  level?: string;
  /** Where lines go; stdout when absent. */
  destination?: NodeJS.WritableStream;
}

/**
 * @example const log = createLogger({ job: 'train', level: 'info' }); log.info({ backend: 'wasm' }, 'backend selected');
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    { level: options.level ?? 'info', base: { job: options.job } },
    options.destination ?? pino.destination(1),
  );
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
