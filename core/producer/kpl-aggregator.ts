/**
 * KPL aggregation (the producer side of `core/events/kpl.ts`): packs several user records of one partition
 * key into one Kinesis record,
 *
 *     magic F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf
 *
 * so one aggregate's burst costs one PutRecords entry and one in-flight slot instead of one round trip per
 * change. All sub-records share the partition key, so the aggregate lands where each record would have.
 */
import { createHash } from 'node:crypto';

const KPL_MAGIC = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
/** Magic plus MD5 trailer. */
const FRAMING_BYTES = KPL_MAGIC.length + 16;

function varintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 128)) n++;
  return n;
}

function writeVarint(out: Uint8Array, offset: number, value: number): number {
  let v = value;
  let o = offset;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  return o;
}

/** Bytes one sub-record adds to an aggregate (field tag, lengths, partition key index 0, data). */
function subRecordBytes(dataLength: number): number {
  const inner = 2 + 1 + varintLength(dataLength) + dataLength; // index field (tag + 0) + data field
  return 1 + varintLength(inner) + inner;
}

/** Size of the aggregate that would hold these data lengths under one partition key. */
function aggregatedSize(partitionKey: string, dataLengths: readonly number[]): number {
  const key = Buffer.byteLength(partitionKey);
  return FRAMING_BYTES + 1 + varintLength(key) + key + dataLengths.reduce((n, l) => n + subRecordBytes(l), 0);
}

/**
 * Encodes user records of one partition key as a KPL aggregated record.
 *
 * @example
 * ```ts
 * const data = aggregate('public.orders#1', [Buffer.from('{"op":"c"}'), Buffer.from('{"op":"u"}')]);
 * ```
 */
function aggregate(partitionKey: string, records: readonly Uint8Array[]): Uint8Array {
  const key = Buffer.from(partitionKey, 'utf8');
  const total = aggregatedSize(
    partitionKey,
    records.map((r) => r.byteLength),
  );
  const out = new Uint8Array(total);
  out.set(KPL_MAGIC, 0);
  let o = KPL_MAGIC.length;
  // partition_key_table (field 1, length-delimited)
  out[o++] = (1 << 3) | 2;
  o = writeVarint(out, o, key.byteLength);
  out.set(key, o);
  o += key.byteLength;
  for (const data of records) {
    const inner = 2 + 1 + varintLength(data.byteLength) + data.byteLength;
    out[o++] = (3 << 3) | 2; // records (field 3)
    o = writeVarint(out, o, inner);
    out[o++] = (1 << 3) | 0; // partition_key_index = 0
    out[o++] = 0;
    out[o++] = (3 << 3) | 2; // data
    o = writeVarint(out, o, data.byteLength);
    out.set(data, o);
    o += data.byteLength;
  }
  const digest = createHash('md5').update(out.subarray(KPL_MAGIC.length, o)).digest();
  out.set(digest, o);
  return out;
}

export { aggregate, aggregatedSize };
