/**
 * Reading the fenced code blocks of the README and docs/*.md, for the tests that keep them true:
 * a block is found by an HTML comment marker on the line before it (`<!-- example: examples/x.mjs -->`,
 * `<!-- output: examples/x.mjs -->`), or all blocks of a language are listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** README.md and every docs/*.md, as paths relative to the repository root. */
export function docFiles(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
}

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

/** The block right after `<!-- marker -->` in `file` (its text, final newline included). */
export function markedBlock(file: string, marker: string, lang: string): string {
  const text = readDoc(file);
  const at = text.indexOf(`<!-- ${marker} -->`);
  if (at < 0) throw new Error(`${file} has no <!-- ${marker} --> marker`);
  const rest = text.slice(at);
  const m = new RegExp('^<!--[^\\n]*-->\\n```' + lang + '\\n([\\s\\S]*?)^```$', 'm').exec(rest);
  if (m === null || m.index !== 0) throw new Error(`${file}: <!-- ${marker} --> is not followed by a \`\`\`${lang} block`);
  return m[1]!;
}

/** Every marker of a kind in `file` ("example", "output"): the text after the colon. */
export function markers(file: string, kind: string): string[] {
  return [...readDoc(file).matchAll(new RegExp(`<!-- ${kind}: (.*?) -->`, 'g'))].map((m) => m[1]!);
}

/** Every block of a language in `file`. */
export function blocks(file: string, lang: string): string[] {
  return [...readDoc(file).matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]!);
}
