/**
 * A minimal protocol-buffers wire-format reader: varints, length-delimited fields and skipping of unknown
 * fields. Enough for the KPL's three small messages without pulling protobufjs into the Lambda bundle.
 * Malformed input throws {@link ProtobufError}.
 */

/** The input is not a well-formed protobuf message. */
class ProtobufError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/**
 * Reads fields from a protobuf message in order.
 *
 * @example
 * ```ts
 * const reader = new ProtobufReader(bytes);
 * while (!reader.done) {
 *   const { field, wireType } = reader.tag();
 *   if (field === 1 && wireType === 2) name = reader.string();
 *   else reader.skip(wireType);
 * }
 * ```
 */
class ProtobufReader {
  readonly #bytes: Uint8Array;
  #offset = 0;

  public constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  public get done(): boolean {
    return this.#offset >= this.#bytes.length;
  }

  /** A varint up to 2^53 (KPL indexes are small; larger values are rejected rather than rounded). */
  public varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#offset >= this.#bytes.length)
        throw new ProtobufError(`varint truncated at byte ${this.#offset}`);
      const byte = this.#bytes[this.#offset++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) throw new ProtobufError(`varint ${value} is larger than 2^53`);
        return value;
      }
      scale *= 128;
    }
    throw new ProtobufError(`varint longer than 10 bytes at byte ${this.#offset}`);
  }

  /** The next field's number and wire type. */
  public tag(): { readonly field: number; readonly wireType: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${this.#offset}`);
    return { field, wireType: key % 8 };
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  public bytes(): Uint8Array {
    const length = this.varint();
    const end = this.#offset + length;
    if (end > this.#bytes.length)
      throw new ProtobufError(
        `length-delimited field of ${length} bytes at byte ${this.#offset} runs past the end (${this.#bytes.length} bytes)`,
      );
    const view = this.#bytes.subarray(this.#offset, end);
    this.#offset = end;
    return view;
  }

  /** A UTF-8 string field. */
  public string(): string {
    try {
      return utf8.decode(this.bytes());
    } catch (error) {
      if (error instanceof ProtobufError) throw error;
      throw new ProtobufError(`string field at byte ${this.#offset} is not valid UTF-8`);
    }
  }

  /** Skips a field of the given wire type. */
  public skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} at byte ${this.#offset}`);
    }
  }

  #advance(count: number): void {
    if (this.#offset + count > this.#bytes.length)
      throw new ProtobufError(`fixed-width field at byte ${this.#offset} runs past the end`);
    this.#offset += count;
  }
}

export { ProtobufError, ProtobufReader, WIRE_LENGTH_DELIMITED, WIRE_VARINT };
