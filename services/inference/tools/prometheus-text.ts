/**
 * Reads values out of the Prometheus text exposition (GET /metrics): the benchmark derives mean
 * batch sizes and RSS from it, the tests check counters with it.
 */

/**
 * The sum of every sample of `name` whose labels include `labels`.
 *
 * @example metricValue(text, 'fer_batch_items_total', { outcome: 'ok' }) // 42
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      (match[3] ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const [key, value] = pair.split('=');
          return [key, value.replace(/^"|"$/g, '')];
        }),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[4]);
  }
  return total;
}
