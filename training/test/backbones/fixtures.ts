// Loads the torchvision fixtures written by training/scripts/make_torch_fixtures.py, for the tests.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BackboneConfig } from '../../src/backbones';

export const FIXTURE_DIR = path.resolve(__dirname, '../fixtures/torchvision');

export interface ParityFixture {
  torch: string;
  torchvision: string;
  input: { file: string; layout: 'NCHW'; shape: [number, number, number, number] };
  models: Record<
    string,
    {
      config: BackboneConfig;
      numClasses: number;
      parameters: number;
      logits: number[][];
      probabilities: number[][];
      legacyFile?: string;
    }
  >;
}

export interface KeyManifest {
  model: string;
  numClasses: number;
  parameters: number;
  keys: { key: string; shape: number[]; dtype: string }[];
}

export function fixtureBytes(file: string): Uint8Array {
  return readFileSync(path.join(FIXTURE_DIR, file));
}

export function readJsonFixture<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURE_DIR, file), 'utf8')) as T;
}

/** The fixed input as NCHW float32 values (torch's layout). */
export function parityInput(fixture: ParityFixture): Float32Array {
  const bytes = fixtureBytes(fixture.input.file);
  return new Float32Array(new Uint8Array(bytes).buffer);
}
