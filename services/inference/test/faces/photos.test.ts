/**
 * Face detection on the shared real photos (../shared/photos, see its SOURCES.txt for what each
 * shows): face counts of group photos, landmarks inside their boxes, EXIF-rotated copies (same
 * boxes and landmarks), photos without faces, a WebP file named .jpg, and the align parameter.
 * Skipped, with a message, when the photos are absent.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';
import { iou, type Rect } from '../../src/faces/suppress-overlaps';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** Detection on a busy 2-core CI machine: a few hundred ms per photo, generously bounded. */
const PHOTO_TEST_TIMEOUT_MS = 60_000;
/** Detected faces may differ from the annotated count by this much (profiles, blurred background faces). */
const FACE_COUNT_TOLERANCE = 1;
/** Relative area change from rounding a face box to whole pixels. */
const AREA_ROUNDING_TOLERANCE = 0.02;
/** Boxes of the same face in the upright and the EXIF-rotated copy overlap at least this much. */
const SAME_FACE_MIN_IOU = 0.7;
/** The same landmark in the upright and the EXIF-rotated copy (different JPEG pixels), in pixels. */
const SAME_POINT_TOLERANCE_PX = 8;

/** Faces each photo shows, from SOURCES.txt. */
const ANNOTATED_FACES: Record<string, number> = {
  'faceapi_bbt1.jpg': 4,
  'faceapi_bbt2.jpg': 2,
  'faceapi_bbt3.jpg': 5,
  'deepface_couple.jpg': 2,
  'curie_photo.jpg': 2,
};

const photo = (name: string) => readFile(path.join(PHOTOS_DIR, name));

if (!HAVE_PHOTOS) {
  test.skip(`real photos: skipped, ${PHOTOS_DIR} is absent`, () => undefined);
  console.warn(`Skipping the real-photo face tests: ${PHOTOS_DIR} is absent.`);
} else {
  describe('faces in real photos', () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startService();
    }, SETUP_TIMEOUT_MS);
    afterAll(() => service?.close());

    test.each(Object.entries(ANNOTATED_FACES))(
      '%s: %i faces, within tolerance, largest first',
      async (name, annotated) => {
        const response = await service.predict(await photo(name));
        expect(response.status).toBe(200);
        const { faces } = response.body as { faces: { box: Rect; detection_score: number }[] };
        expect(Math.abs(faces.length - annotated)).toBeLessThanOrEqual(FACE_COUNT_TOLERANCE);
        // Sorted on exact boxes; the reported ones are rounded to whole pixels (and clipped).
        const areas = faces.map((f) => f.box.width * f.box.height);
        for (let i = 1; i < areas.length; i++) {
          expect(areas[i]).toBeLessThanOrEqual(areas[i - 1] * (1 + AREA_ROUNDING_TOLERANCE));
        }
        for (const face of faces) expect(face.detection_score).toBeGreaterThan(0);
      },
      PHOTO_TEST_TIMEOUT_MS,
    );

    test.each(Object.keys(ANNOTATED_FACES))(
      '%s: each face has its eyes, nose and mouth inside its box',
      async (name) => {
        const { faces } = (await service.predict(await photo(name))).body as {
          faces: { box: Rect; landmarks: Record<string, { x: number; y: number }> }[];
        };
        expect(faces.length).toBeGreaterThan(0);
        for (const { box, landmarks } of faces) {
          // Ears may lie just outside a tight face box; the inner points may not.
          for (const name of ['right_eye', 'left_eye', 'nose', 'mouth']) {
            const p = landmarks[name];
            expect(p.x).toBeGreaterThanOrEqual(box.left);
            expect(p.x).toBeLessThanOrEqual(box.left + box.width);
            expect(p.y).toBeGreaterThanOrEqual(box.top);
            expect(p.y).toBeLessThanOrEqual(box.top + box.height);
          }
          // The person's right eye is on the image's left for a face looking at the camera.
          expect(landmarks.right_eye.x).toBeLessThan(landmarks.left_eye.x);
        }
      },
      PHOTO_TEST_TIMEOUT_MS,
    );

    test(
      'EXIF-rotated copies give the same faces as the upright photo',
      async () => {
        const upright = (await service.predict(await photo('curie_photo.jpg'))).body;
        expect(upright.faces.length).toBeGreaterThanOrEqual(1);
        for (const name of ['curie_photo.3.embedded.jpg', 'curie_photo.6.embedded.jpg']) {
          const rotated = (await service.predict(await photo(name))).body;
          expect(rotated.image).toMatchObject({ width: upright.image.width, height: upright.image.height });
          expect(rotated.faces).toHaveLength(upright.faces.length);
          rotated.faces.forEach(
            (face: { box: Rect; landmarks: Record<string, { x: number; y: number }> }, i: number) => {
              expect(iou(face.box, upright.faces[i].box)).toBeGreaterThanOrEqual(SAME_FACE_MIN_IOU);
              // Landmarks are in the upright image's pixels too: the same points, within a few pixels.
              for (const [point, p] of Object.entries(face.landmarks)) {
                const q = upright.faces[i].landmarks[point];
                expect(Math.hypot(p.x - q.x, p.y - q.y)).toBeLessThanOrEqual(SAME_POINT_TOLERANCE_PX);
              }
            },
          );
        }
      },
      PHOTO_TEST_TIMEOUT_MS,
    );

    test.each(['faceapi_white.png', 'exif_Landscape_6.jpg'])(
      '%s has no face: 200 with faces []',
      async (name) => {
        const response = await service.predict(
          await photo(name),
          '',
          name.endsWith('.png') ? 'image/png' : 'image/jpeg',
        );
        expect(response.status).toBe(200);
        expect(response.body.faces).toEqual([]);
      },
      PHOTO_TEST_TIMEOUT_MS,
    );

    test(
      'a WebP file named .jpg and sent as image/jpeg is judged by its bytes',
      async () => {
        const response = await service.predictMultipart([
          {
            field: 'image',
            bytes: await photo('deepface_img47_is-webp.jpg'),
            filename: 'img47.jpg',
            type: 'image/jpeg',
          },
        ]);
        expect(response.status).toBe(200);
        expect(response.body.image).toEqual({ width: 1350, height: 1800, format: 'webp' });
        expect(response.body.faces).toHaveLength(1);
      },
      PHOTO_TEST_TIMEOUT_MS,
    );

    test(
      'align=true and align=false both answer, with the same boxes and landmarks',
      async () => {
        const bytes = await photo('faceapi_bbt3.jpg');
        const levelled = (await service.predict(bytes, '?align=true')).body.faces;
        const plain = (await service.predict(bytes, '?align=false')).body.faces;
        expect(levelled.length).toBeGreaterThan(0);
        expect(levelled.map((f: { box: Rect }) => f.box)).toEqual(plain.map((f: { box: Rect }) => f.box));
        expect((await service.predict(bytes, '?align=maybe')).status).toBe(400);
      },
      PHOTO_TEST_TIMEOUT_MS,
    );

    test(
      'faces=largest and max_faces choose the largest faces',
      async () => {
        const group = await photo('faceapi_bbt3.jpg');
        const all = (await service.predict(group)).body.faces;
        const largest = (await service.predict(group, '?faces=largest')).body.faces;
        const two = (await service.predict(group, '?max_faces=2')).body.faces;
        expect(largest).toEqual([all[0]]);
        expect(two).toEqual(all.slice(0, 2));
      },
      PHOTO_TEST_TIMEOUT_MS,
    );
  });
}
