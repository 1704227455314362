/**
 * The service's Prometheus metrics, in one registry per app instance (tests build several apps in
 * one process; prom-client's global registry would make them collide). Names follow Prometheus
 * conventions: seconds for durations, `_total` for counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets (seconds) from a few ms (one 48-px crop) to the longest sensible deadline. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZE_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128];
const FACE_COUNT_BUCKETS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 32];

export interface ServiceMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status' | 'model'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  queueDepth: Gauge<'model' | 'version'>;
  batchSize: Histogram<'model' | 'version'>;
  queueWait: Histogram<'model' | 'version'>;
  inferenceTime: Histogram<'model' | 'version'>;
  batchItems: Counter<'model' | 'version' | 'outcome'>;
  facesPerImage: Histogram<'model'>;
  detectionTime: Histogram;
  detectorQueueDepth: Gauge;
  decodeQueueDepth: Gauge;
  detectorTensors: Gauge;
  loadedVersions: Gauge<'model'>;
  modelLoads: Counter<'model' | 'outcome'>;
  predictStages: Counter<'stage'>;
}

/**
 * Creates every metric in a fresh registry, plus Node's default process metrics (RSS, event-loop
 * lag, GC), which the soak benchmark reads.
 *
 * @example const metrics = createMetrics(); metrics.httpRequests.inc({ method: 'GET', route: '/healthz', status: '200', model: '' });
 */
export function createMetrics(): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'fer_http_requests_total',
      help: 'HTTP requests by method, route, status and model',
      labelNames: ['method', 'route', 'status', 'model'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'fer_http_request_duration_seconds',
      help: 'HTTP request latency from arrival to the end of the response',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'fer_batch_queue_depth',
      help: 'Faces waiting in a model version batching queue',
      labelNames: ['model', 'version'],
      registers,
    }),
    batchSize: new Histogram({
      name: 'fer_batch_size',
      help: 'Faces per batch sent to the runtime',
      labelNames: ['model', 'version'],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    queueWait: new Histogram({
      name: 'fer_batch_queue_wait_seconds',
      help: 'Time a face waited in the batching queue before its batch ran',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    inferenceTime: new Histogram({
      name: 'fer_inference_duration_seconds',
      help: 'Runtime compute time of one batch',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchItems: new Counter({
      name: 'fer_batch_items_total',
      help: 'Faces leaving a batching queue, by outcome (ok, failed, expired, cancelled, rejected)',
      labelNames: ['model', 'version', 'outcome'],
      registers,
    }),
    facesPerImage: new Histogram({
      name: 'fer_faces_per_image',
      help: 'Faces classified per /predict request',
      labelNames: ['model'],
      buckets: FACE_COUNT_BUCKETS,
      registers,
    }),
    detectionTime: new Histogram({
      name: 'fer_face_detection_duration_seconds',
      help: 'Face detection time per image, including the wait for a detector worker',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    detectorQueueDepth: new Gauge({
      name: 'fer_face_detector_queue_depth',
      help: 'Images waiting for a face detector worker',
      registers,
    }),
    decodeQueueDepth: new Gauge({
      name: 'fer_decode_queue_depth',
      help: 'Large images waiting for a decode slot (DECODE_LARGE_CONCURRENCY)',
      registers,
    }),
    detectorTensors: new Gauge({
      name: 'fer_face_detector_tensors',
      help: 'TF.js tensors the face-detector workers held after their latest detections (flat unless they leak)',
      registers,
    }),
    loadedVersions: new Gauge({
      name: 'fer_loaded_model_versions',
      help: 'Model versions loaded and serving',
      labelNames: ['model'],
      registers,
    }),
    predictStages: new Counter({
      name: 'fer_predict_stage_total',
      help: 'Images that reached each /predict stage: probe (header read), decode (pixels), detect, classify',
      labelNames: ['stage'],
      registers,
    }),
    modelLoads: new Counter({
      name: 'fer_model_loads_total',
      help: 'Model version loads by outcome (ok, failed)',
      labelNames: ['model', 'outcome'],
      registers,
    }),
  };
}
