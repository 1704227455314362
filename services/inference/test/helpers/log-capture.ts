/**
 * Captures the service's log lines in memory, with the logger options server.ts uses in production
 * (pino, the redaction list), so tests can look at what an operator's log would hold.
 */
import type { FastifyServerOptions } from 'fastify';
import { REDACTED_HEADERS } from '../../src/app';

export interface LogCapture {
  /** Pass as `logger` to startService or buildApp. */
  logger: FastifyServerOptions['logger'];
  /** Every line written so far, as written (JSON text). */
  lines(): string[];
  /** The lines whose `msg` is `message`. */
  withMessage(message: string): Record<string, unknown>[];
}

/**
 * @example const logs = captureLogs('trace'); const service = await startService({ logger: logs.logger });
 */
export function captureLogs(level = 'info'): LogCapture {
  const lines: string[] = [];
  const stream = { write: (line: string) => void lines.push(line) };
  return {
    logger: { level, redact: REDACTED_HEADERS, stream },
    lines: () => [...lines],
    withMessage: (message) =>
      lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((record) => record.msg === message),
  };
}
