import { describe, expect, it } from 'vitest';
import { splitJsonDocuments } from '../../../core/events/index.js';
import { readFixture } from './fixtures.js';

describe('Function: splitJsonDocuments', () => {
  it('reads JSON Lines after a license header', () => {
    const docs = splitJsonDocuments(
      readFixture('debezium/debezium-mysql-create-delete-update-without-schema.license-header.jsonl.txt'),
    );

    expect(docs.map((d) => d.line)).toEqual([19, 20, 21, 22]);
    expect(docs.every((d) => d.error === undefined)).toBe(true);
  });

  it('reads pretty-printed documents in a row and skips lines such as "..."', () => {
    const docs = splitJsonDocuments('{\n  "a": 1\n}\n{\n  "a": [2,\n 3]\n}\n...\n');

    expect(docs).toEqual([
      { value: { a: 1 }, line: 1, endLine: 3, text: '{\n  "a": 1\n}' },
      { value: { a: [2, 3] }, line: 4, endLine: 7, text: '{\n  "a": [2,\n 3]\n}' },
    ]);
  });

  it('reads a document that starts indented or after a blank line', () => {
    expect(splitJsonDocuments('\n    {\n       "FirstName": "Randy"\n    }').map((d) => d.value)).toEqual([
      { FirstName: 'Randy' },
    ]);
  });

  it('reports a truncated line alone and goes on with the next', () => {
    const docs = splitJsonDocuments('{"a": 1}\n{"b": {"c": 2\n{"d": 4}\n');

    expect(docs.map((d) => d.value ?? `error@${d.line}`)).toEqual([{ a: 1 }, 'error@2', { d: 4 }]);
  });

  it('reports a balanced block that is not JSON once, then goes on after it', () => {
    const docs = splitJsonDocuments('{\n  "schema": { ... },\n  "payload": {}\n}\n{"ok": true}\n');

    expect(docs).toHaveLength(2);
    expect(docs[0]?.error).toBeDefined();
    expect(docs[0]).toMatchObject({ line: 1, endLine: 4, code: 'NOT_JSON' });
    expect(docs[1]).toEqual({ value: { ok: true }, line: 5, endLine: 5, text: '{"ok": true}' });
  });

  it('reports a block nesting too deep with its own reason code', () => {
    const docs = splitJsonDocuments(
      `{"a": 1}\n{"d": ${'['.repeat(10_000)}${']'.repeat(10_000)}}\n{"b": 2}\n`,
    );

    expect(docs.map((d) => (d.error === undefined ? d.value : d.code))).toEqual([
      { a: 1 },
      'TOO_DEEP',
      { b: 2 },
    ]);
  });

  it('keeps large numbers exact', () => {
    expect(splitJsonDocuments('[12345678901234567890]')[0]?.value).toEqual(['12345678901234567890']);
  });
});
