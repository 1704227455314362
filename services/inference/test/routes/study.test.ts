/**
 * GET /study/{file}: the committed study page served for the Models view: public (also with API
 * keys), read-only, only allowed names that existed at start-up, served inert; no folder, no route.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';
import { removeDir } from '../helpers/test-models';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const API_KEY = 'study-test-key';

let dir: string;
let service: TestService;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fer-study-page-'));
  await writeFile(path.join(dir, 'README.md'), '# The study\n');
  await writeFile(path.join(dir, 'study.json'), JSON.stringify({ context: {}, rows: [] }));
  await writeFile(path.join(dir, 'comparison-quality.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(dir, 'notes.txt'), 'not for the web');
  await writeFile(path.join(dir, '.env'), 'SECRET=1');
  service = await startService({ env: { STUDY_DIR: dir } });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
  await removeDir(dir);
});

test.each([
  ['study.json', 'application/json; charset=utf-8'],
  ['README.md', 'text/plain; charset=utf-8'],
  ['comparison-quality.svg', 'image/svg+xml'],
])('%s is served as %s, inert', async (file, type) => {
  const response = await service.request('GET', `/study/${file}`);
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toBe(type);
  expect(response.headers['content-security-policy']).toContain('sandbox');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
});

test('other names, dot files, paths out of the folder and files added later are not', async () => {
  await writeFile(path.join(dir, 'later.json'), '{}');
  for (const url of [
    '/study/notes.txt',
    '/study/.env',
    '/study/../package.json',
    '/study/%2e%2e/package.json',
    '/study/later.json',
  ]) {
    const response = await service.request('GET', url);
    expect([url, response.status]).toEqual([url, 404]);
  }
});

test(
  'with API keys configured the study stays public, the registry does not',
  async () => {
    const keyed = await startService({ env: { STUDY_DIR: dir, API_KEYS: API_KEY } });
    try {
      expect((await keyed.request('GET', '/study/study.json')).status).toBe(200);
      expect((await keyed.request('GET', '/models')).status).toBe(401);
    } finally {
      await keyed.close();
    }
  },
  SETUP_TIMEOUT_MS,
);

test(
  'without a study folder there is no study route',
  async () => {
    const bare = await startService({ env: { STUDY_DIR: path.join(dir, 'absent') } });
    try {
      expect((await bare.request('GET', '/study/study.json')).status).toBe(404);
    } finally {
      await bare.close();
    }
  },
  SETUP_TIMEOUT_MS,
);
