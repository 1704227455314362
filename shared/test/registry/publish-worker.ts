/** Publishes one version from a child process: `tsx publish-worker.ts <root> <name> <sourceDir>`. */
import { publish } from '../../src';
import { metadataDraft } from './draft';

async function main(): Promise<void> {
  const [root, name, sourceDir] = process.argv.slice(2);
  const { version } = await publish({ root, name, sourceDir, metadata: metadataDraft() });
  process.stdout.write(`${version}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
