/**
 * `npm run -w services/inference measure-detectors`: the measurement behind the choice of face
 * detector (README, "Face detection"). Runs every candidate on the shared real photos, each on the
 * downscaled upright copy the service would make for it (sharp's shrink-on-load), and prints:
 *   - ../shared/photos: faces found of the 35 annotated (per-photo counts from SOURCES.txt) and
 *     extra boxes;
 *   - ../shared/photos-boxes: hand-drawn boxes matched one-to-one (IoU >= 0.3, or the box centre
 *     inside the detection, as its SOURCES.txt says), and unmatched detections;
 *   - milliseconds per photo on one thread (the fastest of RUNS timed runs after a warm-up, so a
 *     loaded machine inflates the numbers less) and the process's CPU time per photo (user +
 *     system over the runs: what a detection costs a core, whatever else the machine runs),
 *     detection only (not the JPEG decode), on the ../shared/photos set.
 * Candidates: BlazeFace back (256 px) and front (128 px) in ONNX Runtime, alone, with overlapping
 * tiles at twice the resolution, and at several score thresholds; face-api's TinyFaceDetector and
 * SSD MobileNet V1 on TF.js wasm. `--only blazeface` skips the TF.js ones. Prints JSON lines, then
 * a Markdown table.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { probeImage } from '@fer/shared';
import { BlazeFaceDetector } from '../src/faces/blazeface-detector';
import type { BlazeFaceSettings, RawDetection } from '../src/faces/detector-protocol';
import { toOriginal, type FaceBox, type Size } from '../src/faces/face-boxes';
import { detectionCopy } from '../src/faces/face-detector';
import { iou, type Rect } from '../src/faces/suppress-overlaps';
import { BLAZEFACE_BACK, BLAZEFACE_FRONT, FACE_API_MODEL_DIR } from '../src/faces/detector-files';
import { FaceApiDetector } from '../src/faces/face-api-detector';
import { SHARED_DIR } from './paths';

const PHOTOS_DIR = path.join(SHARED_DIR, 'photos');
const BOXES_DIR = path.join(SHARED_DIR, 'photos-boxes');
/** Timed runs per photo and setting, after one warm-up run; the fastest counts. */
const RUNS = 3;
/** A drawn box and a detection are the same face at this IoU (or the box centre inside the detection). */
const MATCH_IOU = 0.3;

/**
 * Faces per photo, from ../shared/photos/SOURCES.txt. bbt2 shows 2 main faces plus partial
 * background faces (counted as 2); the sidecar copy shows the 2 faces rotated 90 degrees.
 */
const EXPECTED: Record<string, number> = {
  'faceapi_angry.jpg': 1,
  'faceapi_disgusted.jpg': 1,
  'faceapi_fearful.jpg': 1,
  'faceapi_happy.jpg': 1,
  'faceapi_neutral.jpg': 1,
  'faceapi_sad.jpg': 1,
  'faceapi_surprised.jpg': 1,
  'faceapi_bbt1.jpg': 4,
  'faceapi_bbt2.jpg': 2,
  'faceapi_bbt3.jpg': 5,
  'faceapi_face_rectangular.png': 1,
  'faceapi_white.png': 0,
  'deepface_couple.jpg': 2,
  'deepface_img57.jpg': 1,
  'deepface_img67.jpg': 1,
  'deepface_img12.jpg': 1,
  'deepface_img62.jpg': 1,
  'deepface_img32.jpg': 1,
  'deepface_img47_is-webp.jpg': 1,
  'curie_photo.jpg': 2,
  'curie_photo.3.embedded.jpg': 2,
  'curie_photo.6.embedded.jpg': 2,
  'curie_photo.6.sidecar.jpg': 2,
  'exif_Landscape_6.jpg': 0,
};

/** One candidate: the longest side of the copy it sees, and how it finds faces in that copy. */
interface Candidate {
  name: string;
  maxSide: number;
  load(): Promise<(rgb: Uint8Array, size: Size) => Promise<RawDetection[]>>;
}

interface Photo {
  name: string;
  original: Size;
  bytes: Buffer;
  /** Drawn face boxes (photos-boxes only). */
  boxes?: Rect[];
  /** Annotated face count (photos only). */
  expected?: number;
}

function blazeface(
  name: string,
  maxSide: number,
  settings: Partial<BlazeFaceSettings> & { modelPath: string },
): Candidate {
  return {
    name,
    maxSide,
    load: async () => {
      const detector = await BlazeFaceDetector.load({
        kind: 'blazeface',
        minScore: 0.5,
        tileSide: 0,
        tileOverlap: 0.25,
        clusterIou: 0.3,
        containedFraction: 0.7,
        ...settings,
      });
      return (rgb, size) => detector.detect(rgb, size);
    },
  };
}

function faceApi(name: string, kind: 'tiny' | 'ssd', minScore: number, inputSize = 416): Candidate {
  return {
    name,
    maxSide: 640,
    load: async () => {
      const detector = await FaceApiDetector.load({
        kind,
        inputSize,
        minScore,
        modelDir: FACE_API_MODEL_DIR,
        backend: 'wasm',
      });
      return (rgb, size) => detector.detect(rgb, size);
    },
  };
}

const CANDIDATES: Candidate[] = [
  ...[0.5, 0.6, 0.65, 0.7, 0.75].map((minScore) =>
    blazeface(`blazeface-back 256 min_score=${minScore}`, 256, { modelPath: BLAZEFACE_BACK, minScore }),
  ),
  blazeface('blazeface-back 256 min_score=0.6, no nested-box suppression', 256, {
    modelPath: BLAZEFACE_BACK,
    minScore: 0.6,
    containedFraction: 1.01,
  }),
  ...[0.5, 0.6, 0.75].map((minScore) =>
    blazeface(`blazeface-back 256 + 256-px tiles of a 512-px copy, min_score=${minScore}`, 512, {
      modelPath: BLAZEFACE_BACK,
      minScore,
      tileSide: 256,
    }),
  ),
  blazeface('blazeface-back 256 on a 384-px copy (whole, downscaled)', 384, { modelPath: BLAZEFACE_BACK }),
  ...[0.5, 0.75].map((minScore) =>
    blazeface(`blazeface-front 128 min_score=${minScore}`, 128, { modelPath: BLAZEFACE_FRONT, minScore }),
  ),
  ...[0.5, 0.75].map((minScore) =>
    blazeface(`blazeface-front 128 + 128-px tiles of a 256-px copy, min_score=${minScore}`, 256, {
      modelPath: BLAZEFACE_FRONT,
      minScore,
      tileSide: 128,
    }),
  ),
  faceApi('tiny (TF.js) input=416 min_score=0.3', 'tiny', 0.3, 416),
  faceApi('tiny (TF.js) input=608 min_score=0.3', 'tiny', 0.3, 608),
  faceApi('ssd_mobilenet_v1 (TF.js) min_score=0.3', 'ssd', 0.3),
  faceApi('ssd_mobilenet_v1 (TF.js) min_score=0.5', 'ssd', 0.5),
];

/** The upright RGB copy with the longest side `maxSide`, as the service makes it. */
function copyFor(photo: Photo, maxSide: number): Promise<{ rgb: Uint8Array; size: Size }> {
  return detectionCopy(photo.bytes, photo.original, maxSide);
}

/** Drawn boxes matched one-to-one to detections (best IoU first), and the unmatched detections. */
export function matchBoxes(
  drawn: readonly Rect[],
  found: readonly Rect[],
): { matched: number; extra: number } {
  const pairs: { d: number; f: number; score: number }[] = [];
  drawn.forEach((box, d) =>
    found.forEach((det, f) => {
      const overlap = iou(box, det);
      const cx = box.left + box.width / 2;
      const cy = box.top + box.height / 2;
      const centreInside =
        cx >= det.left && cx <= det.left + det.width && cy >= det.top && cy <= det.top + det.height;
      if (overlap >= MATCH_IOU || centreInside) pairs.push({ d, f, score: overlap });
    }),
  );
  pairs.sort((a, b) => b.score - a.score);
  const usedD = new Set<number>();
  const usedF = new Set<number>();
  for (const p of pairs) {
    if (usedD.has(p.d) || usedF.has(p.f)) continue;
    usedD.add(p.d);
    usedF.add(p.f);
  }
  return { matched: usedD.size, extra: found.length - usedF.size };
}

async function loadPhotos(): Promise<{ photos: Photo[]; boxed: Photo[] }> {
  const photos = await Promise.all(
    Object.entries(EXPECTED).map(async ([name, expected]) => {
      const bytes = await readFile(path.join(PHOTOS_DIR, name));
      const info = await probeImage(bytes);
      return { name, bytes, expected, original: { width: info.width, height: info.height } };
    }),
  );
  const boxesFile = path.join(BOXES_DIR, 'boxes.json');
  const drawn = existsSync(boxesFile)
    ? (JSON.parse(await readFile(boxesFile, 'utf8')) as Record<
        string,
        { width: number; height: number; faces: { x: number; y: number; width: number; height: number }[] }
      >)
    : {};
  const boxed = await Promise.all(
    Object.entries(drawn).map(async ([name, entry]) => ({
      name,
      bytes: await readFile(path.join(BOXES_DIR, name)),
      original: { width: entry.width, height: entry.height },
      boxes: entry.faces.map((f) => ({ left: f.x, top: f.y, width: f.width, height: f.height })),
    })),
  );
  return { photos, boxed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  if (!existsSync(PHOTOS_DIR)) throw new Error(`${PHOTOS_DIR} is absent: nothing to measure`);
  const { photos, boxed } = await loadPhotos();
  const expectedTotal = photos.reduce((sum, p) => sum + (p.expected ?? 0), 0);
  const drawnTotal = boxed.reduce((sum, p) => sum + (p.boxes?.length ?? 0), 0);
  const rows: string[] = [];
  for (const candidate of CANDIDATES) {
    if (values.only && !candidate.name.startsWith(values.only)) continue;
    const detect = await candidate.load();
    let found = 0;
    let extra = 0;
    let boxesFound = 0;
    let boxesExtra = 0;
    let ms = 0;
    let cpuMs = 0;
    const mismatches: string[] = [];
    for (const photo of [...photos, ...boxed]) {
      const { rgb, size } = await copyFor(photo, candidate.maxSide);
      await detect(rgb.slice(), size);
      let fastest = Infinity;
      let detections: RawDetection[] = [];
      const cpuBefore = process.cpuUsage();
      for (let run = 0; run < RUNS; run++) {
        const copy = rgb.slice();
        const started = performance.now();
        detections = await detect(copy, size);
        fastest = Math.min(fastest, performance.now() - started);
      }
      const cpu = process.cpuUsage(cpuBefore);
      const faces: FaceBox[] = toOriginal(detections, size, photo.original);
      if (photo.boxes) {
        const match = matchBoxes(photo.boxes, faces);
        boxesFound += match.matched;
        boxesExtra += match.extra;
        if (match.matched !== photo.boxes.length || match.extra > 0) {
          mismatches.push(`${photo.name}:${match.matched}/${photo.boxes.length}+${match.extra}`);
        }
      } else {
        ms += fastest;
        cpuMs += (cpu.user + cpu.system) / 1000 / RUNS;
        const expected = photo.expected ?? 0;
        found += Math.min(expected, faces.length);
        extra += Math.max(0, faces.length - expected);
        if (faces.length !== expected) mismatches.push(`${photo.name}:${faces.length}/${expected}`);
      }
    }
    const result = {
      setting: candidate.name,
      copy_max_side: candidate.maxSide,
      faces_found: found,
      faces_annotated: expectedTotal,
      extra_detections: extra,
      boxes_found: boxesFound,
      boxes_drawn: drawnTotal,
      boxes_extra: boxesExtra,
      ms_per_photo_one_core: ms / photos.length,
      cpu_ms_per_photo: cpuMs / photos.length,
      mismatches,
    };
    console.log(JSON.stringify(result));
    rows.push(
      `| ${candidate.name} | ${found}/${expectedTotal} | ${extra} | ${boxesFound}/${drawnTotal} | ${boxesExtra} | ${result.ms_per_photo_one_core.toFixed(1)} | ${result.cpu_ms_per_photo.toFixed(1)} |`,
    );
  }
  console.log(`\nphotos: ${photos.length} (+${boxed.length} with drawn boxes), one thread per detector\n`);
  console.log(
    '| detector | faces found (photos) | extra | boxes found (photos-boxes) | extra | ms/photo, one thread (fastest of 3) | CPU ms/photo |',
  );
  console.log('|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
