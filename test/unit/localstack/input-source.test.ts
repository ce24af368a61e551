import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInput } from '../../../localstack/run/input-source.js';

const dir = mkdtempSync(join(tmpdir(), 'cdcp-input-'));
afterAll(() => rmSync(dir, { recursive: true }));

function fileOf(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const texts = (path: string) => readInput(path).map((r) => r.data.toString('utf8'));

describe('Function: readInput', () => {
  it('publishes the numbers of a JSON array exactly, not as doubles', () => {
    const path = fileOf('array.json', '[{"id": 9223372036854775807, "n": 1e400, "f": 0.1}, {"id": 2}]');

    expect(texts(path)).toEqual(['{"id":9223372036854775807,"n":1e400,"f":0.1}', '{"id":2}']);
  });

  it('publishes a single document and each JSON Lines line byte for byte', () => {
    const single = fileOf('one.json', '  {"id": 12345678901234567890,  "s": "\\u00e9"}\n');
    const lines = Buffer.concat([
      Buffer.from('# a header\n{"id": 18446744073709551615}\n'),
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]),
      Buffer.from('{"truncated": \n'),
    ]);

    expect(texts(single)).toEqual(['{"id": 12345678901234567890,  "s": "\\u00e9"}']);
    const records = readInput(fileOf('lines.jsonl', lines));
    expect(records.map((r) => r.data)).toEqual([
      Buffer.from('{"id": 18446744073709551615}'),
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]),
      Buffer.from('{"truncated":'),
    ]);
  });

  it("keeps a Lambda event's record data and partition keys as they are", () => {
    const data = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]).toString('base64');
    const path = fileOf(
      'event.json',
      JSON.stringify({
        Records: [{ kinesis: { data, partitionKey: 'p1' } }, { kinesis: { data, partitionKey: '' } }],
      }),
    );

    expect(readInput(path)).toEqual([
      { data: Buffer.from(data, 'base64'), partitionKey: 'p1' },
      { data: Buffer.from(data, 'base64'), partitionKey: '' },
    ]);
  });

  it('says which file it cannot read, and what it takes', () => {
    expect(() => readInput(join(dir, 'absent.json'))).toThrow(
      /cannot read the --input file ".*absent\.json" \(ENOENT\); give a readable JSON, JSON Lines or Lambda event file, or - for stdin/,
    );
  });
});
