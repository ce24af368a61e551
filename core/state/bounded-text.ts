/**
 * Bytes of a message stored with a parked change or on a state item (an error, a reason): enough to say what
 * went wrong, small next to DynamoDB's 400 KB item limit. Messages may quote input (a 500,000-character
 * column name, a 200 KB position), and the record itself is stored whole beside them, so nothing is lost.
 */
const MAX_STORED_MESSAGE_BYTES = 1_024;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes (never inside a character), saying how long it was.
 *
 * @example
 * ```ts
 * boundedText('x'.repeat(5000), 100); // 'xxx…xxx… (5000 bytes)', 100 bytes at most
 * ```
 */
function boundedText(text: string, maxBytes = MAX_STORED_MESSAGE_BYTES): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const suffix = `… (${bytes} bytes)`;
  const room = Math.max(0, maxBytes - Buffer.byteLength(suffix, 'utf8'));
  // Each UTF-16 unit takes at least one byte: the first `room` units hold the bytes we keep.
  const head = Buffer.from(text.slice(0, room), 'utf8');
  let end = Math.min(room, head.length);
  // Back up to the start of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && end < head.length && (head[end]! & 0xc0) === 0x80) end--;
  const cut = head.subarray(0, end).toString('utf8');
  return `${cut}${suffix}`;
}

export { boundedText, MAX_STORED_MESSAGE_BYTES };
