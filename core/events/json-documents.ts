/**
 * Splits a text into the JSON values it holds, for tools that read files people hand them: one JSON
 * document, a JSON array, JSON Lines, or several pretty-printed documents in a row. A value starts on a line
 * whose first non-blank character is `{` or `[`; other lines (license headers, comments, `...`) are skipped.
 */

import { messageOf } from '../errors.js';
import { DecodeError } from './errors.js';
import { parseJsonExact } from './exact-json.js';
import { REASON, type ReasonCode } from './reason-codes.js';

/**
 * One value found in the text, or a block that did not parse, with the lines it spans (1-based) and its
 * text exactly as written.
 */
type JsonDocument =
  | {
      readonly value: unknown;
      readonly line: number;
      readonly endLine: number;
      readonly text: string;
      readonly error?: undefined;
    }
  | {
      readonly value?: undefined;
      readonly line: number;
      readonly endLine: number;
      readonly text: string;
      readonly error: string;
      /** `NOT_JSON`, or `TOO_DEEP` for a block nesting deeper than a record may. */
      readonly code: ReasonCode;
    };

/** End of the balanced `{…}` / `[…]` block starting at `start`, or -1 when it never closes. */
function blockEnd(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

function tryParse(text: string): { value: unknown } | { error: string; code: ReasonCode } {
  try {
    return { value: parseJsonExact(text) };
  } catch (error) {
    return {
      error: messageOf(error),
      code: error instanceof DecodeError ? error.code : REASON.NOT_JSON,
    };
  }
}

function linesIn(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * The JSON values of a text in order, with their 1-based starting line. A block that does not parse is
 * returned with its error instead of stopping the scan.
 *
 * @example
 * ```ts
 * splitJsonDocuments('/* header *\/\n{"a":1}\n{"a":2}\n').map((d) => d.value); // [{a: 1}, {a: 2}]
 * ```
 */
function splitJsonDocuments(text: string): JsonDocument[] {
  const documents: JsonDocument[] = [];
  let lineStart = 0;
  let line = 1;
  while (lineStart < text.length) {
    const lineEnd = text.indexOf('\n', lineStart) === -1 ? text.length : text.indexOf('\n', lineStart);
    const indent = /^[ \t\r\uFEFF]*/.exec(text.slice(lineStart, lineEnd))?.[0].length ?? 0;
    const first = text[lineStart + indent];
    if (first !== '{' && first !== '[') {
      lineStart = lineEnd + 1;
      line++;
      continue;
    }
    const start = lineStart + indent;
    // JSON Lines first: a whole value on one line.
    const single = tryParse(text.slice(start, lineEnd));
    const end = 'value' in single ? lineEnd : blockEnd(text, start);
    if ('value' in single)
      documents.push({ value: single.value, line, endLine: line, text: text.slice(start, lineEnd) });
    else if (end === -1) {
      // Never closes: a truncated line. Report it alone and go on with the next line.
      documents.push({ ...single, line, endLine: line, text: text.slice(start, lineEnd) });
      lineStart = lineEnd + 1;
      line++;
      continue;
    } else {
      const blockText = text.slice(start, end);
      const block = tryParse(blockText);
      const endLine = line + linesIn(blockText);
      if ('value' in block) documents.push({ value: block.value, line, endLine, text: blockText });
      else documents.push({ ...block, line, endLine, text: blockText });
    }
    // Go on at the line after the value's end (anything after it on its last line is ignored).
    const next = text.indexOf('\n', end);
    for (let i = lineStart; i < (next === -1 ? text.length : next); i++) if (text[i] === '\n') line++;
    lineStart = next === -1 ? text.length : next + 1;
    line++;
  }
  return documents;
}

export type { JsonDocument };
export { splitJsonDocuments };
