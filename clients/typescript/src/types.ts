/**
 * The API's shapes as apps use them: aliases of the types generated from openapi.yaml
 * (generated/openapi.ts, `npm run generate -w clients/typescript`), never hand-written copies.
 */
import type { components, operations } from './generated/openapi';

type Schemas = components['schemas'];

export type PredictResponse = Schemas['PredictResponse'];
export type Face = Schemas['Face'];
export type Box = Schemas['Box'];
export type Probabilities = Schemas['Probabilities'];
export type Label = Schemas['Label'];
export type ModelList = Schemas['ModelList'];
export type VersionDetail = Schemas['VersionDetail'];
/** The body of every error answer: `{ error: { code, message } }`. */
export type ErrorBody = Schemas['Error'];
/** The stable codes of the API's errors (INVALID_REQUEST, UNAUTHORIZED, OVERLOADED...). */
export type ErrorCode = ErrorBody['error']['code'];
/** The query of POST /predict: model, version, faces, crop, max_faces. */
export type PredictQuery = NonNullable<operations['predict']['parameters']['query']>;
