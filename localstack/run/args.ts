import { parseArgs } from 'node:util';
import { ASSIGNMENT_STRATEGIES, type AssignmentStrategy } from '../../core/config/schema.js';
import { messageOf } from '../../core/errors.js';
import { type KinesisEngine, parseKinesisEngine } from '../engines/engines.js';
import { type LoadProfileName, parseLoadProfile } from '../workload/load-profile.js';

/** The flags of `npm start`. */
interface RunArgs {
  readonly events: number | undefined;
  readonly untilDrained: boolean;
  /** Undefined: the template's value. */
  readonly shards: number | undefined;
  readonly batchSize: number | undefined;
  readonly parallelization: number | undefined;
  readonly kinesisEngine: KinesisEngine;
  readonly injectDuplicates: number;
  readonly injectPoison: number;
  readonly input: string | undefined;
  readonly dumpState: string | undefined;
  readonly dumpParked: string | undefined;
  readonly json: boolean;
  readonly seed: number;
  readonly aggregates: number;
  /** Undefined: as fast as possible with --events or --input, 2000/s until Ctrl-C. */
  readonly rate: number | undefined;
  readonly loadProfile: LoadProfileName | undefined;
  readonly clusterManager: boolean;
  /** Worker processes; 0: one worker inside the run's process. */
  readonly workers: number;
  /** `leases.assignment` for this run; undefined: the config's (least-loaded). */
  readonly assignment: AssignmentStrategy | undefined;
  /** `leases.failureDetectionMs` for this run; undefined: the config's (4.5 s). */
  readonly failureDetectionMs: number | undefined;
  /** Path of a projection module (its default export); undefined: the built-in mirror. */
  readonly projection: string | undefined;
  /** How worker processes read the shards. */
  readonly reader: 'polling' | 'fan-out';
  readonly help: boolean;
}

const USAGE = `Usage: npm start -- [options]

Runs the whole pipeline on embedded engines: generator → producer → Kinesis → local event source mapping →
consumer handler → DynamoDB. Runs until Ctrl-C unless --events or --input ends it.

  --events N                produce N events (default: until Ctrl-C, at --rate events/s)
  --until-drained           exit once every produced event is applied or parked, then verify the state
                            table against the generator's model (exit 1 on any difference)
  --shards N                shards of the stream (default: the stack's shardCount, 2)
  --batch-size N            records per handler invocation, 1..10000 (default: the stack's, 100)
  --parallelization N       ParallelizationFactor, 1..10 (default: the stack's, 1)
  --kinesis-engine NAME     kinesalite (default) or kinesis-mock
  --workers N               run N worker processes that divide the shards through leases (0..32; default 0:
                            one worker inside this process); manage them with \`cdcp local workers\`
  --assignment NAME         how the elected assigner divides shards among workers: round-robin,
                            least-loaded (default), adaptive or bounded-load
  --failure-detection-ms N  how long a worker's heartbeat may stand still before its leases are taken
                            over, 2000..600000 (default: the configuration's, 4500)
  --projection PATH         fold changes with the projection module at PATH (its default export), as a
                            stack deployed with projectionEntry does; the run is verified against it;
                            worker processes load it too and refuse to start with any other
                            (default: the built-in mirror projection)
  --reader NAME             how worker processes read: polling (GetRecords, default) or fan-out (enhanced
                            fan-out; needs --workers N and --kinesis-engine kinesis-mock)
  --inject-duplicates R     republish a fraction R (0..1) of records: duplicates and late redeliveries
                            (default 0)
  --inject-poison N         publish N changes that fail every time, on distinct aggregates (default 0)
  --input FILE|-            publish the change events in FILE (JSON Lines, JSON array, or a Lambda Kinesis
                            event) instead of generating
  --dump-state FILE|-       write the final state as JSON Lines {"aggregateId","deleted","position","state"}
  --dump-parked FILE|-      write what ended parked as JSON Lines {"aggregate","position","reason","message",
                            "shardId","sequenceNumber","subSequenceNumber"}
  --json                    print the final summary as one JSON line, last on stdout
  --seed N                  workload seed (default 1)
  --aggregates N            distinct aggregates of the workload (default 10000)
  --rate N                  events per second to produce (default: as fast as possible with --events,
                            2000 when producing until Ctrl-C)
  --load-profile NAME       steady, spike (ten times the rate for 30 s after 10 s) or ramp; the rate is
                            --rate (default 200/s); turns the cluster manager on
  --cluster-manager         run the cluster manager locally: it resizes the stream as the load moves
                            (use --kinesis-engine kinesis-mock: kinesalite has no UpdateShardCount)
  -h, --help                this help

Set LOCALSTACK_ENDPOINT (or AWS_ENDPOINT_URL) to use a running LocalStack instead of embedded engines.`;

class ArgsError extends Error {}

function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ArgsError(
      `--${name} must be an integer from ${min} to ${max}; received ${JSON.stringify(value)}`,
    );
  return n;
}

function optionalInteger(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  return value === undefined ? undefined : integer(name, value, 0, min, max);
}

function loadProfileOf(value: string | undefined): LoadProfileName | undefined {
  if (value === undefined) return undefined;
  try {
    return parseLoadProfile(value);
  } catch (error) {
    throw new ArgsError(messageOf(error));
  }
}

function fraction(name: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new ArgsError(`--${name} must be a number from 0 to 1; received ${JSON.stringify(value)}`);
  return n;
}

function assignment(value: string | undefined): AssignmentStrategy | undefined {
  if (value === undefined) return undefined;
  if ((ASSIGNMENT_STRATEGIES as readonly string[]).includes(value)) return value as AssignmentStrategy;
  throw new ArgsError(
    `--assignment must be one of ${ASSIGNMENT_STRATEGIES.join(', ')}; received ${JSON.stringify(value)}`,
  );
}

/** Parses and validates the flags; errors name the flag, the value received and the allowed range. */
function parseRunArgs(argv: readonly string[]): RunArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        events: { type: 'string' },
        'until-drained': { type: 'boolean' },
        shards: { type: 'string' },
        'batch-size': { type: 'string' },
        parallelization: { type: 'string' },
        'kinesis-engine': { type: 'string' },
        workers: { type: 'string' },
        assignment: { type: 'string' },
        'failure-detection-ms': { type: 'string' },
        projection: { type: 'string' },
        reader: { type: 'string' },
        'inject-duplicates': { type: 'string' },
        'inject-poison': { type: 'string' },
        input: { type: 'string' },
        'dump-state': { type: 'string' },
        'dump-parked': { type: 'string' },
        json: { type: 'boolean' },
        seed: { type: 'string' },
        aggregates: { type: 'string' },
        rate: { type: 'string' },
        'load-profile': { type: 'string' },
        'cluster-manager': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ArgsError(`${messageOf(error)}. Run \`npm start -- --help\` for the options.`);
  }
  const str = (k: string) => values[k] as string | undefined;
  let kinesisEngine: KinesisEngine;
  try {
    kinesisEngine = parseKinesisEngine(str('kinesis-engine') ?? 'kinesalite');
  } catch (error) {
    throw new ArgsError(messageOf(error));
  }
  const events =
    str('events') === undefined ? undefined : integer('events', str('events'), 0, 0, 100_000_000);
  const untilDrained = values['until-drained'] === true;
  if (untilDrained && events === undefined && str('input') === undefined)
    throw new ArgsError(
      '--until-drained needs --events N or --input FILE (a run without an end never drains)',
    );
  const injectPoison = integer('inject-poison', str('inject-poison'), 0, 0, 100_000);
  if (str('input') !== undefined && (injectPoison > 0 || str('events') !== undefined))
    throw new ArgsError(
      '--input publishes the file as it is; it cannot be combined with --events or --inject-poison',
    );
  const workers = integer('workers', str('workers'), 0, 0, 32);
  const reader = str('reader') ?? 'polling';
  if (reader !== 'polling' && reader !== 'fan-out')
    throw new ArgsError(`--reader must be polling or fan-out; received ${JSON.stringify(reader)}`);
  if (reader === 'fan-out' && (str('workers') === undefined || str('workers') === '0'))
    throw new ArgsError('--reader fan-out runs in worker processes: add --workers N (N ≥ 1)');
  return {
    events,
    untilDrained,
    shards: optionalInteger('shards', str('shards'), 1, 100),
    batchSize: optionalInteger('batch-size', str('batch-size'), 1, 10_000),
    parallelization: optionalInteger('parallelization', str('parallelization'), 1, 10),
    kinesisEngine,
    injectDuplicates: fraction('inject-duplicates', str('inject-duplicates')),
    injectPoison,
    input: str('input'),
    dumpState: str('dump-state'),
    dumpParked: str('dump-parked'),
    json: values.json === true,
    seed: integer('seed', str('seed'), 1, 0, 2 ** 31),
    aggregates: integer('aggregates', str('aggregates'), 10_000, 1, 10_000_000),
    rate: optionalInteger('rate', str('rate'), 1, 1_000_000),
    loadProfile: loadProfileOf(str('load-profile')),
    clusterManager: values['cluster-manager'] === true || str('load-profile') !== undefined,
    workers,
    assignment: assignment(str('assignment')),
    failureDetectionMs: optionalInteger('failure-detection-ms', str('failure-detection-ms'), 2_000, 600_000),
    projection: str('projection'),
    reader,
    help: values.help === true,
  };
}

export type { RunArgs };
export { ArgsError, parseRunArgs, USAGE };
