/**
 * Renders a Vega-Lite chart to SVG in Node (vega's headless View, no browser, no canvas) and to
 * PNG through sharp, so reports are plain files that any markdown viewer shows.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import * as vega from 'vega';
import * as vl from 'vega-lite';

/** PNGs are rasterized at twice the SVG's size, for sharp text on high-density screens. */
const PNG_DENSITY_DPI = 144;

/**
 * The chart as an SVG document.
 *
 * @example const svg = await renderSvg({ data: { values }, mark: 'line', encoding: { ... } });
 */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG document. */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: PNG_DENSITY_DPI }).png().toBuffer();
}

/**
 * Writes `<dir>/<name>.svg` and `<dir>/<name>.png` and returns their file names.
 *
 * @example await writeChart(curvesSpec(history), reportDir, 'curves'); // ['curves.svg', 'curves.png']
 */
export async function writeChart(
  spec: vl.TopLevelSpec,
  dir: string,
  name: string,
): Promise<[string, string]> {
  const svg = await renderSvg(spec);
  await writeFile(path.join(dir, `${name}.svg`), svg);
  await writeFile(path.join(dir, `${name}.png`), await svgToPng(svg));
  return [`${name}.svg`, `${name}.png`];
}
