/**
 * Markdown tables for the reports (report.md, comparison.md, the ensemble's and calibration's
 * sections), in one place so every report aligns its columns alike.
 */

/**
 * A markdown table; numbers right-aligned after the first column unless `align` is 'text'.
 *
 * @example table(['class', 'F1'], [['Fear', '50.1%']]) // '| class | F1 |\n|---|---:|\n| Fear | 50.1% |'
 */
export function table(
  header: string[],
  rows: (string | number)[][],
  align: 'numbers' | 'text' = 'numbers',
): string {
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 || align === 'text' ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  return lines.join('\n');
}
