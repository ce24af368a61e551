/**
 * The repository stands alone: every relative link and anchor in its Markdown resolves inside it, and no file
 * (docs, code, lint messages) refers to a path outside the repository.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorsOf, slugOf } from '../../helpers/markdown.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Files git tracks or would track (so files written before their first commit count too). */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\n').filter((f) => f !== '' && existsSync(resolve(ROOT, f)));
}

/** Relative link targets of a Markdown file, outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const links: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push(match[1]!);
  }
  return links.filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l));
}

const files = repositoryFiles();
const markdown = files.filter((f) => f.endsWith('.md'));

describe('Docs: links', () => {
  it('finds the Markdown files', () => {
    expect(markdown).toContain('README.md');
    expect(markdown).toContain('docs/architecture.md');
  });

  it('resolves every relative link and anchor inside the repository', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      const text = readFileSync(resolve(ROOT, file), 'utf8');
      for (const link of linksOf(text)) {
        const [path, anchor] = link.split('#', 2) as [string, string | undefined];
        const target = path === '' ? resolve(ROOT, file) : resolve(ROOT, dirname(file), decodeURI(path));
        if (relative(ROOT, target).startsWith('..')) {
          broken.push(`${file}: ${link} points outside the repository`);
          continue;
        }
        if (!existsSync(target)) {
          broken.push(`${file}: ${link} does not exist`);
          continue;
        }
        if (anchor !== undefined && statSync(target).isFile() && target.endsWith('.md')) {
          if (!anchorsOf(readFileSync(target, 'utf8')).has(anchor))
            broken.push(`${file}: ${link} has no such anchor`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('refers to no file outside the repository', () => {
    const outside = /\.\.\/shared\/|\b(DESIGN|STYLE|TOOLCHAIN)\.md\b/;
    const self = relative(ROOT, fileURLToPath(import.meta.url));
    const offenders = files
      .filter((f) => f !== self && f !== 'package-lock.json' && !f.startsWith('test/fixtures/'))
      .filter((f) => /\.(ts|js|cjs|mjs|json|md|yml|yaml|sh)$/.test(f) || f === '.ci/run')
      .filter((f) => outside.test(readFileSync(resolve(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('Function: slugOf', () => {
  it('drops punctuation and code marks the way GitHub does', () => {
    expect(slugOf('4. Contracts')).toBe('4-contracts');
    expect(slugOf('Parked changes: `cdcp parked`')).toBe('parked-changes-cdcp-parked');
    expect(slugOf('Running it: `npm start`')).toBe('running-it-npm-start');
  });
});
