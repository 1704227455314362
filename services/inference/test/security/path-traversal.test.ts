/**
 * No path traversal through model names, versions or report file names: a valid model placed just
 * outside the registry (a decoy), and symbolic links inside the registry pointing at it, are never
 * reached, whatever encoding the name uses, on POST /predict, GET /models/{name}/versions/{version}
 * and the report file route. Every attempt is a 400 or 404 with the API's error body.
 */
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { distinctImages } from '../../tools/answer-key';
import { READY_TIMEOUT_MS, startService, type Sent, type TestService } from '../helpers/service';
import { freshRegistry, removeDir, TEST_MODEL } from '../helpers/test-models';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
const DECOY = 'decoy';
/** Written into the decoy's report: any response containing it reached outside the registry. */
const DECOY_MARK = 'decoy-secret-4b1d';

let registry: string;
let outside: string;
let service: TestService;
let image: Buffer;

beforeAll(async () => {
  registry = await freshRegistry();
  // A complete, valid model right next to the registry, with a report file.
  outside = `${registry}-outside`;
  const decoyVersion = path.join(outside, DECOY, '1');
  await cp(path.join(registry, TEST_MODEL, '1'), decoyVersion, { recursive: true });
  const metadataFile = path.join(decoyVersion, 'metadata.json');
  const metadata = JSON.parse(await readFile(metadataFile, 'utf8'));
  await writeFile(metadataFile, JSON.stringify({ ...metadata, name: DECOY }));
  await mkdir(path.join(decoyVersion, 'report'));
  await writeFile(path.join(decoyVersion, 'report', 'report.md'), DECOY_MARK);
  // Symbolic links inside the registry to the decoy: as a model folder and as a version folder.
  await symlink(path.join(outside, DECOY), path.join(registry, 'linked'));
  await symlink(decoyVersion, path.join(registry, TEST_MODEL, '9'));
  service = await startService({ registry });
  [image] = await distinctImages(1, 10);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
  await removeDir(registry);
  await removeDir(outside);
});

function expectRefused(response: Sent, what: string): void {
  // (Messages may quote the name the client sent; what must never appear is the decoy's content.)
  if (![400, 404].includes(response.status) || response.text.includes(DECOY_MARK)) {
    throw new Error(`${what}: ${response.status} ${response.text.slice(0, 300)}`);
  }
  expect(response.body.error.code).toMatch(/^(INVALID_REQUEST|MODEL_NOT_FOUND|NOT_FOUND)$/);
}

/** Ways of writing a name that would lead from the registry to the decoy, raw and encoded. */
function traversals(): string[] {
  const sibling = `${path.basename(outside)}/${DECOY}`;
  const raw = [
    `../${sibling}`,
    `../../${path.basename(path.dirname(outside))}/${sibling}`,
    path.join(outside, DECOY),
    `${TEST_MODEL}/../../${sibling}`,
    `..\\${sibling.replace('/', '\\')}`,
    '..',
    '.',
    'linked',
    `${TEST_MODEL}/9`,
    `${DECOY}`,
    `${TEST_MODEL}\u0000../${sibling}`,
  ];
  const dotted = (s: string) => s.replace(/\./g, '%2e').replace(/\//g, '%2f');
  return [
    ...raw.map(encodeURIComponent),
    ...raw.map(dotted),
    ...raw.map((s) => encodeURIComponent(encodeURIComponent(s))),
  ];
}

test('the real model is reachable (the attempts below are refused for what they are)', async () => {
  expect((await service.predict(image, `?crop=none&model=${TEST_MODEL}`, 'image/png')).status).toBe(200);
  expect((await service.request('GET', `/models/${TEST_MODEL}/versions/1`)).status).toBe(200);
  const listed = (await service.request('GET', '/models')).body.models;
  // Neither symbolic link made it into the listing.
  expect(listed.map((m: { name: string }) => m.name)).toEqual([TEST_MODEL]);
  expect(listed[0].versions.map((v: { version: number }) => v.version)).toEqual([1]);
});

test(
  'model names that lead outside the registry are refused on every route',
  async () => {
    for (const name of traversals()) {
      expectRefused(
        await service.predict(image, `?crop=none&model=${name}`, 'image/png'),
        `predict model=${name}`,
      );
      expectRefused(await service.request('GET', `/models/${name}/versions/1`), `version of ${name}`);
      expectRefused(
        await service.request('GET', `/models/${name}/versions/1/report/report.md`),
        `report of ${name}`,
      );
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  'versions and report file names that lead elsewhere are refused',
  async () => {
    const versions = ['9', '..', '%2e%2e', '1%2f..%2f..', '1%2F..%2F9', '0x1', '1%00', '-1', '1.0'];
    for (const version of versions) {
      expectRefused(
        await service.predict(image, `?crop=none&version=${version}`, 'image/png'),
        `version=${version}`,
      );
      expectRefused(
        await service.request('GET', `/models/${TEST_MODEL}/versions/${version}`),
        `/versions/${version}`,
      );
    }
    const sibling = `${path.basename(outside)}/${DECOY}/1/report/report.md`;
    const files = [
      encodeURIComponent(`../../../../${sibling}`),
      encodeURIComponent(path.join(outside, DECOY, '1', 'report', 'report.md')),
      encodeURIComponent('../../9/report/report.md'),
    ];
    for (const file of files) {
      expectRefused(
        await service.request('GET', `/models/${TEST_MODEL}/versions/1/report/${file}`),
        `report ${file}`,
      );
      expectRefused(
        await service.request('GET', `/models/${TEST_MODEL}/versions/9/report/report.md`),
        'linked version',
      );
    }
  },
  TEST_TIMEOUT_MS,
);
