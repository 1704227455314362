/**
 * An image's size, layer by layer (`docker history`), as the table README.md reports, and the size
 * bound of the CPU service image.
 */
import { DOCKER, mustRun } from './commands';

/** The target for the CPU service image, uncompressed. */
export const SERVICE_IMAGE_LIMIT_BYTES = 450e6;

export interface Layer {
  bytes: number;
  createdBy: string;
}

/** Layers that add bytes, newest first as docker history lists them. */
export async function layers(image: string, env: NodeJS.ProcessEnv): Promise<Layer[]> {
  const text = await mustRun(
    DOCKER,
    ['history', '--no-trunc', '--human=false', '--format', '{{.Size}}\t{{.CreatedBy}}', image],
    { env, timeoutMs: 30_000 },
  );
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [size, ...rest] = line.split('\t');
      return { bytes: Number(size), createdBy: rest.join('\t') };
    })
    .filter((layer) => layer.bytes > 0);
}

/** A layer's instruction, shortened to its first words: `RUN apt-get update ...`, `COPY /app ./`. */
export function describeLayer(createdBy: string, width = 70): string {
  const text = createdBy
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .replace(/ # buildkit$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > width ? `${text.slice(0, width - 1)}…` : text || '(base image)';
}

/**
 * The table printed for an image: one line per layer, oldest first, and the total.
 *
 * @example formatLayers([{ bytes: 74e6, createdBy: '' }]) // ['   74.0 MB  (base image)', '   74.0 MB  total']
 */
export function formatLayers(list: readonly Layer[]): string[] {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1).padStart(7)} MB`;
  const total = list.reduce((sum, layer) => sum + layer.bytes, 0);
  return [...list]
    .reverse()
    .map((l) => `${mb(l.bytes)}  ${describeLayer(l.createdBy)}`)
    .concat(`${mb(total)}  total`);
}
