/**
 * Decorates the app with the FaceDetector (a worker-thread pool running face-api's pretrained
 * detector). Workers start when the app is ready, in the background; they stop on close.
 */
import path from 'node:path';
import fp from 'fastify-plugin';
import type { Config } from '../../config';
import { FaceDetector } from '../../faces/face-detector';

declare module 'fastify' {
  interface FastifyInstance {
    detector: FaceDetector;
  }
}

/** face-api ships its pretrained weights inside the npm package. */
export const FACE_API_MODEL_DIR = path.join(
  path.dirname(require.resolve('@vladmandic/face-api/package.json')),
  'model',
);

export interface DetectorPluginOptions {
  config: Config;
}

export default fp<DetectorPluginOptions>(
  async (app, { config }) => {
    const detector = new FaceDetector({
      settings: {
        kind: config.detector.kind,
        inputSize: config.detector.inputSize,
        minScore: config.detector.minScore,
        modelDir: FACE_API_MODEL_DIR,
        backend: config.runtime.tfjsBackend,
      },
      workers: config.detector.workers,
      maxSide: config.detector.maxSide,
      maxQueue: config.batching.maxQueue,
      logger: app.log.child({ component: 'face-detector' }),
    });
    app.decorate('detector', detector);
    app.addHook('onReady', async () => {
      void detector.start();
    });
    app.addHook('onClose', async () => detector.close());
  },
  { name: 'detector', dependencies: ['metrics'] },
);
