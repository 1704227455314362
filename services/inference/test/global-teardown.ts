/** Removes the test models global-setup.ts built. */
import path from 'node:path';
import { OWNED_ENV, removeDir, TEMPLATE_ENV, type TestModels } from './helpers/test-models';

export default async function globalTeardown(): Promise<void> {
  const value = process.env[TEMPLATE_ENV];
  if (!value || process.env[OWNED_ENV] !== '1') return;
  const models = JSON.parse(value) as TestModels;
  await removeDir(path.dirname(models.registry));
}
