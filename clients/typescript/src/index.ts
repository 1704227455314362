/** @fer/client: a typed client for the FER inference service (types from openapi.yaml). */
export { FerClient, type CallOptions, type FerClientOptions } from './client';
export { FerApiError } from './errors';
export { imageBytes, imageContentType, type ImageInput } from './image-body';
export { DEFAULT_RETRY, retryAfterMs, retryDelayMs, type RetryPolicy } from './retry';
export type * from './types';
export type { components, operations, paths } from './generated/openapi';
