/**
 * Number formatting shared by every report the CLI prints: counts with thousands separators,
 * ratios as whole percents, and paragraphs wrapped for a terminal.
 */

/** 1234567.8 → "1,234,568". */
export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** 0.823 → "82%". */
export const percent = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** Breaks a paragraph into lines of at most `width` characters, at spaces. */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines.join('\n');
}
