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

export type { Item };
export { ATTRIBUTE_NAMES, attributeNamesFor, attributeValues, instanceFromItem, keyItem, leaseFromItem };
