import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoCounters } from '../instrument.js';

/** What every section of `npm run bench -- state` shares: DynamoDB Local's client, its requests counted. */
interface SectionContext {
  readonly client: DynamoDBClient;
  readonly counters: DynamoCounters;
}

/** A section's table, its raw figures, and its targets met (true) or missed (false), if it has any. */
interface SectionResult {
  readonly table: string;
  readonly data: unknown;
  readonly targets: Readonly<Record<string, boolean>>;
}

/** One part of the state benchmark: sections run in order on one engine, each printing its own table. */
interface StateSection {
  /** Its name in `BENCH_STATE_SECTIONS`. */
  readonly name: string;
  readonly title: string;
  run(context: SectionContext): Promise<SectionResult>;
}

export type { SectionContext, SectionResult, StateSection };
