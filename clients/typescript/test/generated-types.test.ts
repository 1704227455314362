/**
 * The CI check that the client's types are those of today's openapi.yaml: the generator runs again
 * (the same command as `npm run generate -w clients/typescript`) and its output must equal the
 * committed src/generated/openapi.ts byte for byte.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const WORKSPACE = path.resolve(__dirname, '..');
const COMMITTED = path.join(WORKSPACE, 'src', 'generated', 'openapi.ts');
const GENERATOR = path.resolve(WORKSPACE, '../../node_modules/.bin/openapi-typescript');
const GENERATE_TIMEOUT_MS = 60_000;

test(
  'src/generated/openapi.ts is what openapi.yaml generates now',
  async () => {
    const scripts = JSON.parse(await readFile(path.join(WORKSPACE, 'package.json'), 'utf8'))
      .scripts as Record<string, string>;
    // The check runs the generate script's own command, with the output elsewhere.
    const [command, ...args] = scripts.generate.split(' ');
    expect(command).toBe('openapi-typescript');
    const out = await mkdtemp(path.join(os.tmpdir(), 'fer-client-types-'));
    try {
      const fresh = path.join(out, 'openapi.ts');
      const outputAt = args.indexOf('--output');
      args[outputAt + 1] = fresh;
      await promisify(execFile)(GENERATOR, args, { cwd: WORKSPACE, timeout: GENERATE_TIMEOUT_MS });
      const [now, committed] = await Promise.all([readFile(fresh, 'utf8'), readFile(COMMITTED, 'utf8')]);
      if (now !== committed) {
        throw new Error(
          'openapi.yaml changed but the client types were not regenerated: run `npm run generate -w clients/typescript` and commit clients/typescript/src/generated/openapi.ts',
        );
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
  GENERATE_TIMEOUT_MS,
);
