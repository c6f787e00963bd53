/** Terminal tables (cli-table3) for the bench commands; the Markdown report has its own. */
import Table from 'cli-table3';

export function cliTable(headers: readonly string[], rows: readonly (readonly string[])[], title?: string): string {
  const t = new Table({ head: [...headers], style: { head: [], border: [] }, wordWrap: true });
  for (const r of rows) t.push([...r]);
  return `${title ? `${title}\n` : ''}${t.toString()}\n`;
}
