import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { COORDINATION_TABLE } from '../constants.js';
import type { ItemKey } from './keys.js';
import type {
  HotKey,
  InstanceKind,
  InstanceLoad,
  InstanceRecord,
  LeaseRecord,
  LeaseRenewal,
  MemberEntry,
  MembershipItem,
} from './records.js';

/** Attribute names of coordination items, by expression placeholder (without the `#`). */
const ATTRIBUTE_NAMES = {
  pk: COORDINATION_TABLE.partitionKey,
  sk: COORDINATION_TABLE.sortKey,
  ttl: COORDINATION_TABLE.ttl,
  owner: 'owner',
  fence: 'fence',
  version: 'version',
  leaseDurationMs: 'leaseDurationMs',
  renewal: 'renewal',
  pendingOwner: 'pendingOwner',
  handOffAccepted: 'handOffAccepted',
  successor: 'successor',
  grantedAt: 'grantedAt',
  renewedAt: 'renewedAt',
  data: 'data',
  kind: 'kind',
  incarnation: 'incarnation',
  startedAt: 'startedAt',
  heartbeat: 'heartbeat',
  heartbeatAt: 'heartbeatAt',
  load: 'load',
  configVersion: 'configVersion',
  hotKeys: 'hotKeys',
  members: 'members',
  mail: 'mail',
  beat: 'b',
} as const;

type Item = Record<string, AttributeValue>;

/**
 * `ExpressionAttributeNames` for exactly the `#placeholders` the expressions use (DynamoDB rejects unused
 * ones). Placeholders must come from {@link ATTRIBUTE_NAMES}.
 */
function attributeNamesFor(...expressions: readonly (string | undefined)[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const expression of expressions) {
    for (const match of expression?.matchAll(/#(\w+)/g) ?? []) {
      const placeholder = match[1] as keyof typeof ATTRIBUTE_NAMES;
      const name = ATTRIBUTE_NAMES[placeholder];
      if (name === undefined) throw new Error(`unknown attribute placeholder #${placeholder}`);
      names[`#${placeholder}`] = name;
    }
  }
  return names;
}

/** `ExpressionAttributeValues` from plain values (`:name` keys), dropping undefined ones. */
function attributeValues(values: Record<string, unknown>): Record<string, AttributeValue> {
  return marshall(values, { removeUndefinedValues: true, convertEmptyValues: false });
}

function keyItem(key: ItemKey): Item {
  return marshall({ [ATTRIBUTE_NAMES.pk]: key.pk, [ATTRIBUTE_NAMES.sk]: key.sk });
}

const optionalNumber = (v: unknown) => (typeof v === 'number' ? v : undefined);
const optionalString = (v: unknown) => (typeof v === 'string' ? v : undefined);

function leaseFromItem(item: Item | undefined): LeaseRecord | undefined {
  if (item === undefined || Object.keys(item).length === 0) return undefined;
  const a = unmarshall(item);
  return {
    key: { pk: String(a[ATTRIBUTE_NAMES.pk]), sk: String(a[ATTRIBUTE_NAMES.sk]) },
    owner: optionalString(a[ATTRIBUTE_NAMES.owner]),
    fence: optionalNumber(a[ATTRIBUTE_NAMES.fence]) ?? 0,
    version: optionalString(a[ATTRIBUTE_NAMES.version]) ?? '',
    leaseDurationMs: optionalNumber(a[ATTRIBUTE_NAMES.leaseDurationMs]) ?? 0,
    renewal: (optionalString(a[ATTRIBUTE_NAMES.renewal]) ?? 'record') as LeaseRenewal,
    pendingOwner: optionalString(a[ATTRIBUTE_NAMES.pendingOwner]),
    handOffAcceptedFence: optionalNumber(a[ATTRIBUTE_NAMES.handOffAccepted]),
    successor: optionalString(a[ATTRIBUTE_NAMES.successor]),
    grantedAtWallMs: optionalNumber(a[ATTRIBUTE_NAMES.grantedAt]),
    renewedAtWallMs: optionalNumber(a[ATTRIBUTE_NAMES.renewedAt]),
    data: (a[ATTRIBUTE_NAMES.data] as Record<string, unknown> | undefined) ?? {},
  };
}

function instanceFromItem(item: Item | undefined): InstanceRecord | undefined {
  if (item === undefined || Object.keys(item).length === 0) return undefined;
  const a = unmarshall(item);
  return {
    instanceId: String(a[ATTRIBUTE_NAMES.sk]),
    kind: String(a[ATTRIBUTE_NAMES.kind]) as InstanceKind,
    incarnation: optionalString(a[ATTRIBUTE_NAMES.incarnation]) ?? '',
    startedAtWallMs: optionalNumber(a[ATTRIBUTE_NAMES.startedAt]) ?? 0,
    heartbeat: optionalNumber(a[ATTRIBUTE_NAMES.heartbeat]) ?? 0,
    heartbeatAtWallMs: optionalNumber(a[ATTRIBUTE_NAMES.heartbeatAt]) ?? 0,
    load: (a[ATTRIBUTE_NAMES.load] as InstanceLoad | undefined) ?? {},
    configVersion: optionalString(a[ATTRIBUTE_NAMES.configVersion]),
    hotKeys: (a[ATTRIBUTE_NAMES.hotKeys] as HotKey[] | undefined) ?? [],
    ttlEpochSeconds: optionalNumber(a[ATTRIBUTE_NAMES.ttl]) ?? 0,
  };
}

/**
 * A member's entry as stored in a membership item: short keys, because one item holds a whole group and
 * every heartbeat is billed for the item's size. `b` (the counter) is what conditions compare.
 */
function storedMemberEntry(entry: MemberEntry): Record<string, unknown> {
  const { eventsPerSecond, lagMs, cpuPercent, memoryBytes, inFlightBatches, leaving } = entry.load;
  const load: Record<string, unknown> = {};
  if (eventsPerSecond !== undefined) load.e = Math.round(eventsPerSecond * 10) / 10;
  if (lagMs !== undefined) load.g = Math.round(lagMs);
  if (cpuPercent !== undefined) load.c = Math.round(cpuPercent * 10) / 10;
  if (memoryBytes !== undefined) load.m = Math.round(memoryBytes);
  if (inFlightBatches !== undefined) load.f = inFlightBatches;
  if (leaving === true) load.x = true;
  return { i: entry.incarnation, [ATTRIBUTE_NAMES.beat]: entry.beat, t: entry.atWallMs, l: load };
}

function memberEntryFrom(stored: unknown): MemberEntry | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const e = stored as Record<string, unknown>;
  const l = (typeof e.l === 'object' && e.l !== null ? e.l : {}) as Record<string, unknown>;
  const load = {
    ...(optionalNumber(l.e) === undefined ? {} : { eventsPerSecond: l.e as number }),
    ...(optionalNumber(l.g) === undefined ? {} : { lagMs: l.g as number }),
    ...(optionalNumber(l.c) === undefined ? {} : { cpuPercent: l.c as number }),
    ...(optionalNumber(l.m) === undefined ? {} : { memoryBytes: l.m as number }),
    ...(optionalNumber(l.f) === undefined ? {} : { inFlightBatches: l.f as number }),
    ...(l.x === true ? { leaving: true } : {}),
  };
  return {
    incarnation: optionalString(e.i) ?? '',
    beat: optionalNumber(e[ATTRIBUTE_NAMES.beat]) ?? 0,
    atWallMs: optionalNumber(e.t) ?? 0,
    load,
  };
}

/** A membership item as read (an absent item is empty). Map keys are member ids: never a prototype. */
function membershipFromItem(item: Item | undefined): MembershipItem {
  const members = new Map<string, MemberEntry>();
  const mail = new Map<string, string>();
  if (item !== undefined && Object.keys(item).length > 0) {
    const a = unmarshall(item);
    const storedMembers = a[ATTRIBUTE_NAMES.members] as Record<string, unknown> | undefined;
    for (const id of Object.keys(storedMembers ?? {})) {
      const entry = memberEntryFrom(storedMembers![id]);
      if (entry !== undefined) members.set(id, entry);
    }
    const storedMail = a[ATTRIBUTE_NAMES.mail] as Record<string, unknown> | undefined;
    for (const id of Object.keys(storedMail ?? {})) {
      const token = optionalString(storedMail![id]);
      if (token !== undefined) mail.set(id, token);
    }
  }
  return { members, mail };
}

export type { Item };
export {
  ATTRIBUTE_NAMES,
  attributeNamesFor,
  attributeValues,
  instanceFromItem,
  keyItem,
  leaseFromItem,
  memberEntryFrom,
  membershipFromItem,
  storedMemberEntry,
};
