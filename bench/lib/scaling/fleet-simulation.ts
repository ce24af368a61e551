/**
 * The coordination cost of a worker fleet at scales no test machine reaches (10 to 1,000 workers, 10 to 4,096
 * shards): the real assigner (`core/workers/assigner.ts`) runs its rounds on the in-memory coordination table
 * against a simulated fleet, and its requests and CPU per round are counted; the followers' requests, the
 * membership items' sizes and the write units per partition key follow from the same rules the workers run
 * (`workerTimings`) and the same item encoding (`storedMemberEntry`).
 */
import { parseConfig } from '../../../core/config/schema.js';
import {
  type CoordinationStore,
  InMemoryCoordinationStore,
  type Lease,
  LeaseClient,
  ManualClock,
  Membership,
  type MembershipItem,
  membershipKey,
  shardLeaseKey,
} from '../../../core/coordination/index.js';
import { storedMemberEntry } from '../../../core/coordination/item-mapping.js';
import { Assigner } from '../../../core/workers/assigner.js';
import { createStrategy } from '../../../core/workers/assignment/index.js';
import { assignerLeaseKey, newShardLeaseData } from '../../../core/workers/shard-lease.js';
import { planSuccessors } from '../../../core/workers/successors.js';
import { restLeaseReadInterval, workerTimings } from '../../../core/workers/timings.js';

interface FleetScenario {
  readonly workers: number;
  readonly shards: number;
  /** Membership items; @default one per 32 workers (items of about 3 KB; `leases.membershipGroups`) */
  readonly groups?: number;
  /** @default 4_500 */
  readonly leaseMs?: number;
  /** Assigner rounds to count at rest, after the fleet settled. @default 6 minutes of them (whole safety reads) */
  readonly rounds?: number;
}

interface FleetOutcome {
  readonly workers: number;
  readonly shards: number;
  readonly groups: number;
  /**
   * Requests per second of a follower at rest (heartbeats, its report, its safety read of the leases in pages),
   * and while busy (heartbeats and reports; without its checkpoints, one per chunk).
   */
  readonly followerAtRest: number;
  readonly followerBusy: number;
  /** The assigner at rest: its own heartbeats and report, plus what its rounds send, per second. */
  readonly assignerAtRest: number;
  /** Requests one assigner round sends at rest (its heartbeat excluded), measured on the real assigner. */
  readonly assignerRequestsPerRound: number;
  /** The same in DynamoDB requests: a lease Query returns 1 MB a page, so a big partition takes several. */
  readonly assignerPagesPerRound: number;
  /** CPU milliseconds of one assigner round at rest (this machine), measured. */
  readonly assignerRoundCpuMs: number;
  /** Items (leases, membership items) one assigner round reads at rest, on average. */
  readonly assignerItemsPerRound: number;
  /** The assigner's busiest round after a worker died and its successors took its leases over: its requests. */
  readonly requestsOnDeath: number;
  /** The same in DynamoDB requests (lease Query pages). */
  readonly pagesOnDeath: number;
  /** Shard leases the dead worker held, and leases it was successor of. */
  readonly victimLeases: number;
  /** Bytes of one shard lease item, and of the whole lease partition (what one full read returns). */
  readonly leaseItemBytes: number;
  readonly deathRoundCpuMs: number;
  /** Bytes of one member's entry, of a group's item, write units per heartbeat, per partition key per second. */
  readonly entryBytes: number;
  readonly itemBytes: number;
  readonly writeUnitsPerBeat: number;
  readonly writeUnitsPerKeyAtRest: number;
  readonly writeUnitsPerKeyBusy: number;
  /** Before membership items: a follower heartbeat and polled the lease partition every `L/4` for the same lease. */
  readonly followerBefore: number;
}

/** DynamoDB's item size: names and values in UTF-8, numbers about a byte per two digits, 3 bytes per map or list. */
function dynamoSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace('.', '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((a: number, v) => a + dynamoSize(v) + 1, 0);
  if (typeof value === 'object')
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (a, [k, v]) => a + Buffer.byteLength(k) + dynamoSize(v) + 1,
        0,
      )
    );
  return 0;
}

/** Workers per membership item by default: about 3 KB items (see docs/cluster.md, "Groups"). */
const WORKERS_PER_GROUP = 32;
/** A DynamoDB Query returns at most 1 MB per page. */
const QUERY_PAGE_BYTES = 1024 * 1024;

/** A realistic instance id (`worker-<host>-<random>`, as `cdcp worker` names itself in ECS). */
const workerId = (i: number) =>
  `worker-ip-10-0-${Math.floor(i / 250)}-${i % 250}-${((i * 2654435761) % 0xffffff).toString(16).padStart(6, '0')}`;
const shardId = (i: number) => `shardId-${String(i).padStart(12, '0')}`;

/** Counts the calls one participant makes to the store, and the items its reads return. */
function counted(
  store: CoordinationStore,
  leaseItemBytes: () => number,
): {
  store: CoordinationStore;
  total: () => number;
  pages: () => number;
  items: () => number;
} {
  let calls = 0;
  let pages = 0;
  let items = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        calls++;
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const n = Array.isArray(result) ? result.length : 0;
        if (property === 'listLeases') {
          items += n;
          pages += Math.max(1, Math.ceil((n * leaseItemBytes()) / QUERY_PAGE_BYTES));
        } else pages++;
        if (property === 'readMemberships') items += n;
        return result;
      };
    },
  });
  return { store: proxy, total: () => calls, pages: () => pages, items: () => items };
}

/** Runs the real assigner against a simulated fleet and derives every worker's cost from the same rules. */
async function simulateFleet(scenario: FleetScenario): Promise<FleetOutcome> {
  const leaseMs = scenario.leaseMs ?? 4_500;
  const groups = scenario.groups ?? Math.max(1, Math.ceil(scenario.workers / WORKERS_PER_GROUP));
  const config = parseConfig({ leases: { failureDetectionMs: leaseMs, membershipGroups: groups } });
  const timings = workerTimings(config.leases);
  const clock = new ManualClock();
  const table = new InMemoryCoordinationStore();
  const ids = Array.from({ length: scenario.workers }, (_, i) => workerId(i));
  const [self, ...others] = ids as [string, ...string[]];
  const shards = Array.from({ length: scenario.shards }, (_, i) => shardId(i));
  const stream = 'orders';

  // The fleet as it stands once settled: every shard owned (round-robin), every lease with a successor.
  const setup = new LeaseClient({ store: table, clock });
  const groupOf = (id: string) => Membership.groupOf(id, groups);
  const ownerOf = (i: number) => ids[i % ids.length]!;
  const successors = planSuccessors(
    shards.map((s, i) => ({ shardId: s, owner: ownerOf(i), successor: undefined })),
    ids.map((id) => ({ workerId: id, group: groupOf(id) })),
  );
  for (const [i, s] of shards.entries()) {
    const key = shardLeaseKey(stream, s);
    await setup.create(key, { leaseDurationMs: leaseMs, renewal: 'heartbeat', data: newShardLeaseData([]) });
    const lease = (await setup.grantIfFree(key, {
      owner: ownerOf(i),
      leaseDurationMs: leaseMs,
      renewal: 'heartbeat',
    }))!;
    await setup.setSuccessor(lease.record, successors.get(s));
  }
  let assignerLease: Lease = (await setup.grantIfFree(assignerLeaseKey(stream), {
    owner: self,
    leaseDurationMs: leaseMs,
    renewal: 'heartbeat',
  }))!;
  const deputy = others.find((id) => groupOf(id) === groupOf(self)) ?? others[0];
  if (deputy !== undefined) assignerLease = (await setup.renew(assignerLease, { deputy }))!;

  // Every simulated member heartbeats once per round. Rather than thousands of writes per round, each member
  // beats once here and every membership item the assigner reads or writes comes back with the live members'
  // counters at the current round (their cost is the rule below); a dead member's counter stays where it was.
  for (const id of others)
    await table.beatMember(membershipKey(stream, groupOf(id)), id, {
      incarnation: 'i',
      beat: 0,
      atWallMs: clock.wallNow(),
      load: {},
    });
  const beatNow = () => Math.floor(clock.now() / timings.restHeartbeatIntervalMs);
  const dead = new Set<string>();
  const freshen = (item: MembershipItem): MembershipItem => ({
    mail: item.mail,
    members: new Map(
      [...item.members].map(([id, entry]) =>
        id === self || dead.has(id) ? [id, entry] : [id, { ...entry, beat: beatNow() }],
      ),
    ),
  });
  const fleet: CoordinationStore = new Proxy(table, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'beatMember')
        return async (...args: Parameters<CoordinationStore['beatMember']>) =>
          freshen(await target.beatMember(...args));
      if (property === 'readMemberships')
        return async (keys: Parameters<CoordinationStore['readMemberships']>[0]) =>
          (await target.readMemberships(keys)).map(freshen);
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const kill = async (id: string) => {
    dead.add(id);
    // Its last counter, as stored: the assigner removes it conditional on the counter it judged.
    await table.beatMember(membershipKey(stream, groupOf(id)), id, {
      incarnation: 'i',
      beat: beatNow(),
      atWallMs: clock.wallNow(),
      load: {},
    });
  };

  // One lease item as stored, its data as a worker's checkpoint leaves it (a full sequence number).
  const sample = (await setup.list(shardLeaseKey(stream, '-').pk))[0]!;
  const leaseItemBytes =
    dynamoSize({ pk: sample.key.pk, sk: sample.key.sk }) +
    dynamoSize({ ...sample, key: undefined, data: { ...sample.data, checkpoint: '4'.repeat(56) } });
  const mine = counted(fleet, () => leaseItemBytes);
  const membership = new Membership({
    store: mine.store,
    fleet: stream,
    memberId: self,
    failureDetectionMs: leaseMs,
    groups,
    clock,
  });
  const assigner = new Assigner({
    self,
    streamName: stream,
    leases: new LeaseClient({ store: mine.store, clock }),
    membership,
    clock,
    timings,
    listShards: async () =>
      shards.map((s) => ({ shardId: s, parents: [], closed: false, hashKeyRange: { start: '0', end: '0' } })),
    strategy: () => createStrategy(config.leases),
    rebalanceIntervalMs: () => config.leases.rebalanceIntervalMs,
    assignerLease: () => assignerLease,
    onAssignerLease: (lease) => {
      assignerLease = lease;
    },
  });
  const round = async () => {
    await clock.advance(timings.restHeartbeatIntervalMs);
    await membership.beat({}, []);
    const [before, pagesBefore, itemsBefore] = [mine.total(), mine.pages(), mine.items()];
    const started = performance.now();
    await assigner.round();
    return {
      requests: mine.total() - before,
      pages: mine.pages() - pagesBefore,
      items: mine.items() - itemsBefore,
      cpuMs: performance.now() - started,
    };
  };

  // Settle: the first rounds read everything and judge every member for the first time.
  for (let i = 0; i < Math.ceil((2 * leaseMs) / timings.restHeartbeatIntervalMs) + 2; i++) await round();
  const measured = [];
  // A whole number of the assigner's safety reads (once a minute per page of leases) and of its once-a-minute
  // read of the other groups, so that the mean per round carries no sampling bias.
  const readEveryMs = restLeaseReadInterval(timings, scenario.shards);
  const windowMs = Math.ceil(360_000 / readEveryMs) * readEveryMs;
  const rounds = scenario.rounds ?? Math.round(windowMs / timings.restHeartbeatIntervalMs);
  for (let i = 0; i < rounds; i++) measured.push(await round());
  // One worker dies (the last one, not the assigner's deputy). Its successors take its leases over a lease
  // and a heartbeat later, as workers do, and mail the assigner; the assigner's rounds follow.
  const victim = others.at(-1)!;
  await kill(victim);
  const diedAt = clock.now();
  const victimLeases = (await setup.list(shardLeaseKey(stream, '-').pk)).filter(
    (r) => r.owner === victim || r.successor === victim,
  ).length;
  let death = { requests: 0, pages: 0, items: 0, cpuMs: 0 };
  let succeeded = false;
  for (let i = 0; i < Math.ceil((3 * leaseMs) / timings.restHeartbeatIntervalMs); i++) {
    if (!succeeded && clock.now() - diedAt >= leaseMs + timings.restHeartbeatIntervalMs) {
      succeeded = true;
      const taken = (await setup.list(shardLeaseKey(stream, '-').pk)).filter((r) => r.owner === victim);
      for (const record of taken)
        await setup.takeOverFromDeadOwner(record, {
          owner: record.successor ?? self,
          leaseDurationMs: leaseMs,
          renewal: 'heartbeat',
        });
      await table.mailMembers(membershipKey(stream, groupOf(self)), [self], `m-${i}`);
    }
    const r = await round();
    if (r.requests > death.requests) death = r;
  }

  const restRoundsPerSecond = 1000 / timings.restHeartbeatIntervalMs;
  const pagesPerRound = measured.reduce((a, r) => a + r.pages, 0) / measured.length;
  const perMinute = 1 / 60;
  // A follower's safety read: the whole lease partition, in 1 MB pages, spaced by a minute per page.
  const leasePages = Math.max(1, Math.ceil((scenario.shards * leaseItemBytes) / QUERY_PAGE_BYTES));
  const safetyReads = (1000 * leasePages) / restLeaseReadInterval(timings, scenario.shards);
  const followerAtRest = restRoundsPerSecond + perMinute + safetyReads;
  const followerBusy = 1000 / timings.heartbeatIntervalMs + 1000 / timings.busyReportIntervalMs;
  const requestsPerRound = measured.reduce((a, r) => a + r.requests, 0) / measured.length;
  const entryBytes =
    Buffer.byteLength(workerId(scenario.workers - 1)) +
    dynamoSize(
      storedMemberEntry({
        incarnation: 'abcdef012345',
        beat: 123_456,
        atWallMs: Date.UTC(2026, 0, 1),
        load: {
          eventsPerSecond: 123.4,
          lagMs: 250,
          cpuPercent: 45.6,
          memoryBytes: 250_000_000,
          inFlightBatches: 2,
        },
      }),
    ) +
    1;
  const perGroup = Math.ceil(scenario.workers / groups);
  const itemBytes = 60 + perGroup * (entryBytes + 16);
  const writeUnitsPerBeat = Math.ceil(itemBytes / 1024);
  return {
    workers: scenario.workers,
    shards: scenario.shards,
    groups,
    followerAtRest,
    followerBusy,
    assignerAtRest: followerAtRest - safetyReads + pagesPerRound * restRoundsPerSecond,
    assignerRequestsPerRound: requestsPerRound,
    assignerPagesPerRound: measured.reduce((a, r) => a + r.pages, 0) / measured.length,
    assignerRoundCpuMs: measured.reduce((a, r) => a + r.cpuMs, 0) / measured.length,
    assignerItemsPerRound: measured.reduce((a, r) => a + r.items, 0) / measured.length,
    requestsOnDeath: death.requests,
    pagesOnDeath: death.pages,
    victimLeases,
    leaseItemBytes,
    deathRoundCpuMs: death.cpuMs,
    entryBytes,
    itemBytes,
    writeUnitsPerBeat,
    writeUnitsPerKeyAtRest: perGroup * restRoundsPerSecond * writeUnitsPerBeat,
    writeUnitsPerKeyBusy: (perGroup * 1000 * writeUnitsPerBeat) / timings.heartbeatIntervalMs,
    followerBefore: 2 * (4000 / leaseMs),
  };
}

export type { FleetOutcome, FleetScenario };
export { dynamoSize, simulateFleet, WORKERS_PER_GROUP };
