/**
 * Decorates the app with the FaceDetector: a worker-thread pool running BlazeFace in ONNX Runtime
 * (or face-api's TF.js detectors when DETECTOR says so). Workers start when the app is ready, in
 * the background; a missing or corrupt model file leaves the detector 'failed' (so /readyz stays
 * 503) with a logged error naming the file. They stop on close.
 */
import fp from 'fastify-plugin';
import type { Config } from '../../config';
import { FaceDetector } from '../../faces/face-detector';
import type { DetectorSettings } from '../../faces/detector-protocol';
import { BLAZEFACE_GEOMETRY, FACE_API_MODEL_DIR } from '../../faces/detector-files';
import { loadCropGeometry } from '../../faces/crop-geometry';

declare module 'fastify' {
  interface FastifyInstance {
    detector: FaceDetector;
  }
}

export { FACE_API_MODEL_DIR };

export interface DetectorPluginOptions {
  config: Config;
}

/** BlazeFace's suppression settings (measure-detectors): MediaPipe's IoU, nested boxes dropped. */
const BLAZEFACE_CLUSTER_IOU = 0.3;
const BLAZEFACE_CONTAINED_FRACTION = 0.7;

/** The worker settings for the configured detector. */
export function detectorSettings(config: Config): DetectorSettings {
  const { kind, minScore, inputSize, modelPath } = config.detector;
  if (kind === 'blazeface') {
    return {
      kind,
      modelPath,
      minScore,
      tileSide: 0,
      tileOverlap: 0.25,
      clusterIou: BLAZEFACE_CLUSTER_IOU,
      containedFraction: BLAZEFACE_CONTAINED_FRACTION,
    };
  }
  return { kind, inputSize, minScore, modelDir: FACE_API_MODEL_DIR, backend: config.runtime.tfjsBackend };
}

export default fp<DetectorPluginOptions>(
  async (app, { config }) => {
    const detector = new FaceDetector({
      settings: detectorSettings(config),
      workers: config.detector.workers,
      maxSide: config.detector.maxSide,
      maxQueue: config.batching.maxQueue,
      logger: app.log.child({ component: 'face-detector' }),
      // BlazeFace's boxes are framed by the geometry fitted for them; face-api's by the model's margin.
      cropGeometry: config.detector.kind === 'blazeface' ? loadCropGeometry(BLAZEFACE_GEOMETRY) : null,
    });
    app.decorate('detector', detector);
    app.addHook('onReady', async () => {
      void detector.start();
    });
    app.addHook('onClose', async () => detector.close());
  },
  { name: 'detector', dependencies: ['metrics'] },
);
