/**
 * Published Kinesis Data Streams prices, US East (N. Virginia), as dated constants. Source:
 * https://aws.amazon.com/kinesis/data-streams/pricing/ (provisioned and on-demand tabs). The figures below are
 * the list prices that page has shown for years; the copy of the page reachable while writing this did not
 * show the numbers, so check them against the page before quoting a cost.
 */
const PRICES = {
  region: 'us-east-1',
  asOf: '2026-07',
  source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
  provisioned: {
    /** Per shard-hour. */
    shardHour: 0.015,
    /** Per million PUT payload units (each record counts one unit per 25 KB, rounded up). */
    putPayloadUnitsPerMillion: 0.014,
    putPayloadUnitBytes: 25 * 1024,
  },
  onDemand: {
    /** Per stream-hour. */
    streamHour: 0.04,
    /** Per GB written; each record is rounded up to 1 KiB. */
    dataInPerGb: 0.08,
    /** Per GB read by shared-throughput consumers. */
    dataOutPerGb: 0.04,
  },
} as const;

export { PRICES };
