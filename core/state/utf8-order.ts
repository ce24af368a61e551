/**
 * Compares strings as DynamoDB compares string attributes in conditions and sort keys: by their UTF-8 bytes,
 * which is not JavaScript's order of UTF-16 code units once characters above U+FFFF meet ones from U+E000.
 *
 * @example
 * ```ts
 * compareUtf8('\u{1F600}', '\uFFFD'); // > 0, where '\u{1F600}' < '\uFFFD' in JavaScript
 * ```
 */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export { compareUtf8 };
