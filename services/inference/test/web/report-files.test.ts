/** The allow-list of report file names (src/routes/report-files.ts). */
import { reportContentType } from '../../src/routes/report-files';

describe('reportContentType', () => {
  test.each([
    ['curves.svg', 'image/svg+xml'],
    ['confusion.png', 'image/png'],
    ['report.md', 'text/markdown; charset=utf-8'],
    ['metrics.json', 'application/json; charset=utf-8'],
    ['epochs.jsonl', 'application/x-ndjson; charset=utf-8'],
    ['comparison-per-class.svg', 'image/svg+xml'],
    ['run_2.png', 'image/png'],
  ])('%s is served as %s', (file, type) => {
    expect(reportContentType(file)).toBe(type);
  });

  test.each([
    ['a parent folder', '../metadata.json'],
    ['a sub-folder', 'tfjs/model.json'],
    ['a backslash', '..\\metadata.json'],
    ['the model', 'model.onnx'],
    ['weights', 'group1-shard1of1.bin'],
    ['a hidden file', '.curves.svg'],
    ['two extensions', 'curves.svg.html'],
    ['an HTML page', 'report.html'],
    ['a script', 'chart.js'],
    ['upper case', 'Curves.SVG'],
    ['a NUL byte', 'curves.svg\u0000.png'],
    ['no extension', 'report'],
    ['an empty name', ''],
    ['a name of 65 characters', `${'a'.repeat(65)}.svg`],
    ['an image type the training job does not write', 'curves.gif'],
  ])('%s is refused (%j)', (_what, file) => {
    expect(reportContentType(file)).toBeNull();
  });
});
