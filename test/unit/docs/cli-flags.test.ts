/**
 * The docs and the CLI cannot drift: every flag the README and docs/ show on a `cdcp` command or on
 * `npm start` is one that command's `--help` lists, and every default the README's `npm start` table states is
 * the one `npm start -- --help` states.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../bin/cli/command.js';
import { dispatch } from '../../../bin/cli/dispatch.js';
import { commands } from '../../../bin/commands/index.js';
import { DEFAULTS } from '../../../lib/props.js';
import { USAGE } from '../../../localstack/run/args.js';

const DOCUMENTS = ['README.md', ...readdirSync('docs').map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

async function helpOf(command: Command): Promise<string> {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (c: Buffer) => {
    text += c.toString();
  });
  await dispatch(commands, [...command.path, '--help'], {
    stdout,
    stderr: new PassThrough(),
    stdin: Readable.from([]),
    env: {},
  });
  return text;
}

/** Flags of a command line as written: `--name`, without a value after `=`. */
const flagsIn = (text: string) =>
  [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => `--${m[1]}`);

interface Mention {
  readonly file: string;
  readonly line: number;
  readonly command: string;
  readonly flags: readonly string[];
}

/** The text of a command line: to the end of its code span, its shell comment or its line. */
function invocation(rest: string): string {
  return rest.split(/`|\s#\s|\s\|\s/)[0] ?? '';
}

/** Every `cdcp <command> … --flag` and `npm start -- … --flag` the documents show. */
function mentions(): Mention[] {
  const sorted = [...commands].sort((a, b) => b.path.length - a.path.length);
  const found: Mention[] = [];
  for (const file of DOCUMENTS)
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, index) => {
        for (const match of text.matchAll(/\bcdcp((?:\s+[a-z][a-z-]*)*)(.*)$/g)) {
          const words = match[1]!.trim().split(/\s+/);
          const command = sorted.find((c) => c.path.every((w, i) => words[i] === w));
          if (command === undefined) continue;
          const line = invocation(`${words.slice(command.path.length).join(' ')}${match[2]}`);
          const flags = flagsIn(line);
          if (flags.length > 0) found.push({ file, line: index + 1, command: command.path.join(' '), flags });
        }
        for (const match of text.matchAll(/npm start -- (.*)$/g)) {
          const flags = flagsIn(invocation(match[1]!));
          if (flags.length > 0) found.push({ file, line: index + 1, command: 'npm start', flags });
        }
      });
  return found;
}

/** Rows of the README's `npm start` table: the flags of the first cell and the default of the last. */
function npmStartTable(): { flags: string[]; defaults: string }[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(
    readme.indexOf('## Running it: `npm start`'),
    readme.indexOf('## How the contracts hold'),
  );
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `--'))
    .map((l) => {
      const cells = l.split(/(?<!\\)\|/).map((c) => c.trim());
      return { flags: flagsIn(cells[1]!), defaults: cells[cells.length - 2]! };
    });
}

/** The USAGE text of one `npm start` flag: its line and the continuation lines under it. */
function usageOf(flag: string): string {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\s+${flag}\\b`).test(l));
  if (start < 0) return '';
  const block = [lines[start]!];
  for (const l of lines.slice(start + 1)) {
    if (!/^\s{20,}\S/.test(l)) break;
    block.push(l);
  }
  return block.join(' ');
}

describe('Docs: CLI flags', () => {
  it('find command lines to check in the README and docs', () => {
    const found = mentions();
    expect(found.filter((m) => m.command === 'npm start').length).toBeGreaterThan(3);
    expect(new Set(found.map((m) => m.command)).size).toBeGreaterThan(6);
  });

  it('show only flags the command lists in its --help', async () => {
    const help = new Map<string, string>([['npm start', USAGE]]);
    for (const command of commands) help.set(command.path.join(' '), await helpOf(command));
    const unknown = mentions().flatMap((m) =>
      m.flags
        .filter((flag) => !new RegExp(`(^|[\\s,(])${flag}\\b`).test(help.get(m.command)!))
        .map((flag) => `${m.file}:${m.line}: ${m.command} ${flag}`),
    );
    expect(unknown).toEqual([]);
  });

  it("state npm start's defaults as its --help does", () => {
    const rows = npmStartTable();
    expect(rows.length).toBeGreaterThan(10);
    const differences: string[] = [];
    for (const { flags, defaults } of rows) {
      const usage = flags.map(usageOf).join(' ');
      if (usage === '') differences.push(`${flags.join(', ')}: not in npm start --help`);
      for (const number of defaults.replace(/(\d),(\d{3})/g, '$1$2').match(/\d+/g) ?? [])
        if (!new RegExp(`\\b${number}\\b`).test(usage.replace(/(\d),(\d{3})/g, '$1$2')))
          differences.push(`${flags.join(', ')}: the README says ${defaults}, --help says "${usage.trim()}"`);
    }
    expect(differences).toEqual([]);
  });

  it("give --shards the stack's shard count as its default", () => {
    expect(usageOf('--shards')).toContain(`shardCount, ${DEFAULTS.shardCount})`);
  });
});
