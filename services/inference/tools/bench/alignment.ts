/**
 * `npm run bench:alignment`: the measurement behind the default of `align` (README, "Face
 * detection"). Each photo of ../shared/photos with a face is turned by ±10° and ±20° (corners
 * filled with the photo's mean colour); the service's photo pipeline (bench/photo-pipeline.ts)
 * classifies the largest face of the upright and of each turned copy, with and without alignment,
 * and the table gives, per angle, the mean L1 distance between the turned and the upright
 * probabilities and how often their top labels agree (over the copies where a face was found).
 */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadCropGeometry } from '../../src/faces/crop-geometry';
import { BLAZEFACE_GEOMETRY } from '../../src/faces/detector-files';
import type { FaceBox } from '../../src/faces/face-boxes';
import { argmax, l1, PhotoPipeline } from './photo-pipeline';
import { REPO_ROOT, SHARED_DIR } from '../paths';

const PHOTOS = path.join(SHARED_DIR, 'photos');
const ANGLES = [-20, -10, 10, 20];

async function turned(bytes: Buffer, angle: number): Promise<Buffer> {
  const upright = sharp(bytes).autoOrient();
  const { channels } = await upright.clone().stats();
  const [r, g, b] = channels.map((c) => Math.round(c.mean));
  return upright
    .rotate(angle, { background: { r, g: g ?? r, b: b ?? r } })
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string', default: path.join(REPO_ROOT, 'models/resnet-small-x3/1') } },
  });
  if (!existsSync(PHOTOS)) {
    console.log(`Skipped: ${PHOTOS} is absent.`);
    return;
  }
  const pipeline = await PhotoPipeline.create(values.model);
  const geometry = loadCropGeometry(BLAZEFACE_GEOMETRY);
  try {
    const names = (await readdir(PHOTOS)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
    // [align][angle] -> distances and agreements
    const stats = new Map<string, { l1: number[]; agree: number; found: number; total: number }>();
    let photos = 0;
    for (const name of names) {
      const bytes = await readFile(path.join(PHOTOS, name));
      const upright = await pipeline.detect(bytes);
      const face = upright.faces[0];
      if (!face) continue;
      photos++;
      for (const align of [false, true]) {
        const [reference] = await pipeline.classify([
          await pipeline.faceInput(bytes, { info: upright.info, face }, geometry, align),
        ]);
        for (const angle of ANGLES) {
          const key = `${align}|${angle}`;
          const entry = stats.get(key) ?? { l1: [], agree: 0, found: 0, total: 0 };
          stats.set(key, entry);
          entry.total++;
          const copy = await turned(bytes, angle);
          const found = await pipeline.detect(copy);
          const largest: FaceBox | undefined = found.faces[0];
          if (!largest) continue;
          entry.found++;
          const [row] = await pipeline.classify([
            await pipeline.faceInput(copy, { info: found.info, face: largest }, geometry, align),
          ]);
          entry.l1.push(l1(row, reference));
          if (argmax(row) === argmax(reference)) entry.agree++;
        }
      }
    }
    const rows: string[] = [];
    for (const angle of ANGLES) {
      const cells = [false, true].map((align) => {
        const e = stats.get(`${align}|${angle}`);
        if (!e || e.l1.length === 0) return '- | -';
        const mean = e.l1.reduce((a, b) => a + b, 0) / e.l1.length;
        return `${mean.toFixed(3)} | ${e.agree}/${e.found}`;
      });
      const found = stats.get(`false|${angle}`);
      rows.push(
        `| ${angle > 0 ? '+' : ''}${angle}° | ${found?.found}/${found?.total} | ${cells.join(' | ')} |`,
      );
    }
    console.log(`\n${photos} photos with a face; largest face; geometry ${JSON.stringify(geometry)}\n`);
    console.log(
      '| turned | face found | mean L1, align=false | same top label, align=false | mean L1, align=true | same top label, align=true |',
    );
    console.log('|---|---|---|---|---|---|');
    console.log(rows.join('\n'));
  } finally {
    await pipeline.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
