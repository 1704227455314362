/**
 * Builds the real small test models once for the whole run (see helpers/test-models.ts) and hands
 * their location to the test files through the environment.
 */
import { buildTestModels, OWNED_ENV, TEMPLATE_ENV } from './helpers/test-models';

export default async function globalSetup(): Promise<void> {
  if (process.env[TEMPLATE_ENV]) return;
  process.env[TEMPLATE_ENV] = JSON.stringify(await buildTestModels());
  process.env[OWNED_ENV] = '1';
}
