/**
 * README's quick start and quick run, pasted into a fresh clone as a newcomer would: the commands
 * are read from README.md itself (the ```sh blocks that hold `npm start` and the quick run), run
 * from the root of a fresh git repository holding this working tree's files (so models/ there is a
 * scratch copy), and afterwards `git status` must show no change to a tracked file: following the
 * README never changes what the shipped models serve. To stay cheap the quick run trains on a small
 * generated dataset for one epoch (README's own flags otherwise), and node_modules is linked, not
 * installed again (the clone's `npm ci` is the one CI has just run).
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { listModels, readVersion } from '@fer/shared';
import { writeKaggleDataset } from '../helpers/synthetic-dataset';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../../..');
const README = path.join(REPO_ROOT, 'README.md');
/** Copying the tree, starting the service, a one-epoch training run and two evaluations, on a busy machine. */
const TIMEOUT_MS = 300_000;
const COMMAND_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 120_000;
const POLL_MS = 250;
/** The quick run's size here: a few images a class, one epoch. */
const QUICK = { maxTrainImages: '60', epochs: '1', maxImages: '30' };

let tmp: string;
let clone: string;
let data: string;

/** The ```sh blocks of README.md, each as its lines without comments and continuations joined. */
function shellBlocks(markdown: string): string[][] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1]
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

/** A fresh git repository with this working tree's tracked and unignored files, committed. */
async function freshClone(dir: string): Promise<void> {
  const git = (args: string[], cwd = REPO_ROOT) =>
    run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout);
  const files = (await git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']))
    .split('\0')
    .filter((f) => f !== '' && existsSync(path.join(REPO_ROOT, f)));
  await mkdir(dir, { recursive: true });
  for (const file of files) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await cp(path.join(REPO_ROOT, file), path.join(dir, file));
  }
  // Installed once for the whole repository; node_modules is ignored by git, so invisible to status.
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const quiet = [
    '-c',
    'user.name=readme-test',
    '-c',
    'user.email=readme-test@localhost',
    '-c',
    'commit.gpgsign=false',
  ];
  await git(['init', '--quiet'], dir);
  await git(['add', '--all'], dir);
  await git([...quiet, 'commit', '--quiet', '--message', 'fresh clone'], dir);
}

/** Runs one README line in the clone, with the dataset and sizes of this test. */
async function pasted(line: string): Promise<{ stdout: string; stderr: string }> {
  let command = line
    .replaceAll('../shared/datasets/fer6', data)
    .replace(/--max-train-images \d+/, `--max-train-images ${QUICK.maxTrainImages}`)
    .replace(/--epochs \d+/, `--epochs ${QUICK.epochs}`);
  if (command.startsWith('npm run evaluate')) command += ` --max-images ${QUICK.maxImages}`;
  return run('bash', ['-c', command], {
    cwd: clone,
    timeout: COMMAND_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, INIT_CWD: clone },
  }).catch((error: { message: string; stderr?: string }) => {
    throw new Error(`README command failed: ${command}\n${error.stderr ?? error.message}`);
  });
}

async function changedTrackedFiles(): Promise<string> {
  return (await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: clone })).stdout;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-readme-'));
  clone = path.join(tmp, 'clone');
  data = path.join(tmp, 'fer-generated');
  await Promise.all([
    freshClone(clone),
    writeKaggleDataset(data, { train: 12, test: 5, seed: 11, format: 'png' }),
  ]);
}, TIMEOUT_MS);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test(
  "the quick start: npm start serves the clone's models/ and answers a photo; no tracked file changes",
  async () => {
    const block = shellBlocks(await readFile(README, 'utf8')).find((b) =>
      b.some((l) => l.includes('npm start')),
    );
    const line = block?.find((l) => l.includes('npm start'));
    expect(line).toBe('npm ci && npm start');
    // `npm ci` has run for this checkout (node_modules is linked in); `npm start` runs as pasted.
    const child = spawn('bash', ['-c', 'npm start'], {
      cwd: clone,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DETECTOR_WORKERS: '1', DRAIN_TIMEOUT_MS: '5000' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      let url = '';
      for (;;) {
        if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
        if (Date.now() > deadline) throw new Error(`npm start was not ready:\n${output}`);
        url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
        const models = url
          ? await fetch(`${url}/models`).then(
              (r) => r.json(),
              () => null,
            )
          : null;
        const loaded = (models as { models?: { default_version: number | null }[] } | null)?.models ?? [];
        if (loaded.length > 0 && loaded.every((m) => m.default_version !== null)) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      expect(output).toContain(`"registry":"${path.join(clone, 'models')}"`);
      const image = await readFile(path.join(data, 'Testing', 'Testing', 'Happy', 'test_0000.png'));
      const answer = await fetch(`${url}/predict?crop=none`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: image,
      });
      expect(answer.status).toBe(200);
      // The shipped default model at its newest version: what the clone's models/ holds.
      const shipped = (await listModels(path.join(clone, 'models'))).find(
        (m) => m.name === 'resnet-small-x3',
      );
      expect(await answer.json()).toMatchObject({
        model: { name: 'resnet-small-x3', version: shipped?.latest },
      });
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    expect(await changedTrackedFiles()).toBe('');
  },
  TIMEOUT_MS,
);

test(
  'the quick run: trains under its own name into the scratch registry, evaluates; no tracked file changes',
  async () => {
    const block = shellBlocks(await readFile(README, 'utf8')).find((b) =>
      b.some((l) => l.startsWith('npm run train') && l.includes('--max-train-images')),
    );
    if (!block)
      throw new Error('README has no quick-run block (an npm run train line with --max-train-images)');
    const train = block.find((l) => l.startsWith('npm run train'))!;
    const name = /--name (\S+)/.exec(train)?.[1];
    expect(name).toBeDefined();
    for (const line of block) {
      expect(line).toMatch(/^npm run (train|evaluate) -- /);
      await pasted(line);
    }
    // Published where README says, and nowhere near models/.
    const version = await readVersion(path.join(clone, 'artifacts', 'registry'), name!, 1);
    expect(version.status).toBe('ready');
    expect(existsSync(path.join(clone, 'models', name!))).toBe(false);
    expect(await changedTrackedFiles()).toBe('');
  },
  TIMEOUT_MS,
);
