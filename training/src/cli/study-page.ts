/**
 * `npm run study-page -- COMPARISON_DIR [--out DIR]`: turns the comparison a study run wrote
 * (artifacts/comparisons/<time>/) into the committed page docs/study/ (README.md, charts, study.json).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeStudyPage } from '../report/write-study-page';

const REPO_ROOT = path.resolve(__dirname, '../../..');

export const STUDY_PAGE_USAGE = `usage: npm run study-page -- COMPARISON_DIR [--registry DIR] [--shipped DIR] [--out DIR]

  COMPARISON_DIR   the folder npm run train -- --backbone a,b wrote (artifacts/comparisons/<time>)
  --registry DIR   where the study published its versions (its --registry; artifacts/registry)
  --shipped DIR    the shipped registry, to name the version each study model is served as (models)
  --out DIR        where the page goes (docs/study); its previous content is replaced`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        out: { type: 'string' },
        registry: { type: 'string', default: 'artifacts/registry' },
        shipped: { type: 'string', default: 'models' },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${STUDY_PAGE_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(STUDY_PAGE_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(STUDY_PAGE_USAGE);
    return 2;
  }
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const source = parsed.positionals[0];
  const study = path.resolve(cwd, parsed.values.registry);
  const out = parsed.values.out
    ? path.resolve(cwd, parsed.values.out)
    : path.join(REPO_ROOT, 'docs', 'study');
  try {
    const files = await writeStudyPage(
      path.resolve(cwd, source),
      out,
      `${path.relative(REPO_ROOT, path.resolve(cwd, source))} --registry ${path.relative(REPO_ROOT, study)}`,
      { study, shipped: path.resolve(cwd, parsed.values.shipped) },
    );
    console.log(`wrote ${out}: ${files.join(', ')}`);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
