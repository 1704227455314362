/**
 * Entry point of `npm start`. Until the HTTP service lands (issue 7) it reports what the
 * registry holds, so a fresh clone shows the registry is readable.
 */
import path from 'node:path';
import { listModels } from '@fer/shared';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../../models');
  const models = await listModels(root);
  if (models.length === 0) {
    console.log(`No models in the registry at ${root}; train one with \`npm run train\`.`);
    return;
  }
  for (const model of models) {
    const versions = model.versions.map((v) => `${v.version} (${v.status})`).join(', ');
    console.log(`${model.name}: versions ${versions}; default ${model.latest ?? 'none'}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
