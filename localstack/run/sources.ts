import { createHash } from 'node:crypto';
import type { Config } from '../../core/config/schema.js';
import { compareSequenceNumbers, decodeKinesisRecord, TableKeyMemory } from '../../core/events/index.js';
import type { Projection } from '../../core/processing/projection.js';
import type { Accepted } from '../../core/producer/producer.js';
import { createDecoding } from '../../functions/consumer/create-handler.js';
import { WorkloadGenerator } from '../workload/generator.js';
import { ExpectedModel } from '../workload/model.js';
import type { EffectCounts } from './effect-audit.js';
import { readInput } from './input-source.js';

/** One record to publish, and what to do once Kinesis accepted it. */
interface SourceRecord {
  readonly partitionKey: string;
  readonly data: Buffer;
  readonly afterAccepted?: (accepted: Accepted) => void;
}

/** The source of records: the workload generator, or an input file with a model derived from it. */
interface Source {
  /** Records it holds; undefined when it generates until stopped. */
  readonly total: number | undefined;
  next(): SourceRecord | undefined;
  /** What the records must come to, built as they are produced. */
  readonly model: ExpectedModel;
}

/** Kinesis takes partition keys of 1 to 256 characters. */
const MAX_PARTITION_KEY_CHARS = 256;

interface GeneratorSourceOptions {
  readonly events?: number;
  readonly seed?: number;
  readonly aggregates?: number;
  readonly projection?: Projection;
  readonly injectPoison?: number;
  /** Stamps each change's source commit time. @default Date.now: a live source, so latency is measured */
  readonly commitClock?: () => number;
}

/** The workload generator, `events` records long (or endless). */
function generatorSource(options: GeneratorSourceOptions, audit: EffectCounts | undefined): Source {
  const generator = new WorkloadGenerator({
    seed: options.seed,
    aggregates: options.aggregates,
    projection: options.projection,
    poison: options.injectPoison,
    commitClock: options.commitClock ?? Date.now,
    poisonWithin: options.events === undefined ? undefined : Math.floor(options.events * 0.8),
  });
  return {
    total: options.events,
    model: generator.model,
    next: () => {
      if (options.events !== undefined && generator.produced >= options.events) return undefined;
      const event = generator.next();
      audit?.produced(event.change, event.poison);
      return { partitionKey: event.partitionKey, data: event.data };
    },
  };
}

/**
 * The partition key of an input record that names none: the aggregate id of its first change (so one
 * aggregate keeps to one shard, in order), hashed when longer than Kinesis takes; `input-N` for a record that
 * does not decode, which the consumer parks.
 */
function partitionKeyOf(aggregateId: string | undefined, index: number): string {
  if (aggregateId === undefined || aggregateId === '') return `input-${index}`;
  return aggregateId.length <= MAX_PARTITION_KEY_CHARS
    ? aggregateId
    : createHash('sha256').update(aggregateId).digest('hex');
}

/** A record of an input file as Kinesis accepted it. */
interface AcceptedInput {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly at: Accepted;
}

/** A decoder of input records as the consumer decodes them, with its own memory of DMS table keys. */
function inputDecoder(config: Config) {
  const { registry, context } = createDecoding(config, new TableKeyMemory());
  return (data: Buffer, partitionKey: string, at?: Accepted) =>
    decodeKinesisRecord(
      registry,
      {
        data,
        partitionKey,
        sequenceNumber: at?.sequenceNumber ?? '0',
        shardId: at?.shardId ?? 'shardId-000000000000',
        approximateArrivalTimestamp: Date.now(),
      },
      context,
    ).outcomes;
}

/**
 * The model of accepted input records, folded in the order the consumer reads them: by shard, then by
 * sequence number (records are accepted in no particular order). Undecodable records count as parked.
 */
function modelOf(accepted: readonly AcceptedInput[], config: Config, projection: Projection | undefined) {
  const decode = inputDecoder(config);
  const model = new ExpectedModel({ projection });
  const inReadOrder = [...accepted].sort((a, b) =>
    a.at.shardId === b.at.shardId
      ? compareSequenceNumbers(a.at.sequenceNumber, b.at.sequenceNumber)
      : a.at.shardId < b.at.shardId
        ? -1
        : 1,
  );
  for (const record of inReadOrder)
    for (const outcome of decode(record.data, record.partitionKey, record.at)) {
      if (outcome.error !== undefined) model.badInput();
      else if (outcome.decoded.changes.length === 0) model.noChange();
      else for (const change of outcome.decoded.changes) model.apply(change);
    }
  return model;
}

/**
 * Input files carry no model: each record is decoded as the consumer will decode it (KPL de-aggregation,
 * then the decoders), with the position Kinesis gave it (formats that fall back to the sequence number need
 * it), once the run asks for the model. A record that names no partition key is published under its first
 * change's aggregate id.
 */
function inputSource(path: string, config: Config, projection: Projection | undefined): Source {
  const records = readInput(path);
  const decodeForKey = inputDecoder(config);
  const accepted: AcceptedInput[] = [];
  let model: ExpectedModel | undefined;
  let index = 0;
  return {
    total: records.length,
    get model() {
      model ??= modelOf(accepted, config, projection);
      return model;
    },
    next: () => {
      const record = records[index++];
      if (record === undefined) return undefined;
      const named = record.partitionKey;
      const partitionKey =
        named !== undefined && named.length >= 1 && named.length <= MAX_PARTITION_KEY_CHARS
          ? named
          : partitionKeyOf(decodeForKey(record.data, 'input')[0]?.decoded?.changes[0]?.aggregateId, index);
      return {
        partitionKey,
        data: record.data,
        afterAccepted: (at) => {
          accepted.push({ data: record.data, partitionKey, at });
        },
      };
    },
  };
}

export type { Source, SourceRecord };
export { generatorSource, inputSource };
