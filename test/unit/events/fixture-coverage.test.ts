import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allFixtureFiles, fixturePath, readFixture } from './fixtures.js';

/** Test sources of the events and CLI units, which between them must name every fixture file. */
function testSources(): string {
  return ['./', '../cli/']
    .flatMap((dir) => {
      const url = new URL(dir, import.meta.url);
      return readdirSync(url)
        .filter((f) => f.endsWith('.test.ts'))
        .map((f) => readFileSync(new URL(f, url), 'utf8'));
    })
    .join('\n');
}

describe('Fixtures', () => {
  it('are the files of the PROVENANCE.md inventory, byte for byte', () => {
    const inventory = [
      ...readFixture('PROVENANCE.md').matchAll(/^\| ([a-z-]+\/[^ |]+) \| (\d+) \| ([0-9a-f]{64}) \|$/gm),
    ].map((m) => [m[1], Number(m[2]), m[3]]);
    const actual = allFixtureFiles().map((file) => {
      const bytes = readFileSync(fixturePath(file));
      return [file, bytes.length, createHash('sha256').update(bytes).digest('hex')];
    });

    expect(inventory).toHaveLength(58);
    expect(actual).toEqual(inventory);
  });

  it('each have a test that names them', () => {
    const sources = testSources();
    const untested = allFixtureFiles().filter((file) => {
      const name = file.slice(file.indexOf('/') + 1);
      // kpl vectors are named by their stem: "<stem>.input.json" and "<stem>.expected.json"
      const stem = name.replace(/\.(input|expected)\.json$/, '');
      return !sources.includes(name) && !(stem !== name && sources.includes(stem));
    });

    expect(untested).toEqual([]);
  });
});
