import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { METRICS } from '../../../core/constants.js';
import { BatchLatencies } from '../../../core/processing/latency.js';
import { publishLatencies } from '../../../functions/consumer/create-handler.js';

type EmfDocument = ReturnType<Metrics['serializeMetrics']>;

/** A Metrics whose published documents the test reads (EMF output is off in tests). */
function capturingMetrics(): { metrics: Metrics; documents: EmfDocument[] } {
  const metrics = new Metrics({ namespace: METRICS.namespace, serviceName: METRICS.service });
  const documents: EmfDocument[] = [];
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    documents.push(metrics.serializeMetrics());
    metrics.clearMetrics();
    metrics.clearDimensions();
    return metrics;
  });
  return { metrics, documents };
}

function latenciesOf(
  table: string,
  sourceMs: readonly number[],
  arrivalMs: readonly number[],
): BatchLatencies {
  const latencies = new BatchLatencies();
  latencies.byTable.set(table, { sourceToAppliedMs: [...sourceMs], arrivalToAppliedMs: [...arrivalMs] });
  return latencies;
}

describe('Function: publishLatencies', () => {
  it('publishes one value per change with the {service, Table} and {service} dimension sets', () => {
    const { metrics, documents } = capturingMetrics();

    publishLatencies(metrics, latenciesOf('public.orders', [120, 80], [15, 9]));

    expect(documents).toHaveLength(1);
    const [doc] = documents;
    expect(doc!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'Table'], ['service']]);
    expect(doc!._aws.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: METRICS.sourceToAppliedLatency, Unit: 'Milliseconds' },
      { Name: METRICS.arrivalToAppliedLatency, Unit: 'Milliseconds' },
    ]);
    expect(doc).toMatchObject({
      service: METRICS.service,
      Table: 'public.orders',
      [METRICS.sourceToAppliedLatency]: [120, 80],
      [METRICS.arrivalToAppliedLatency]: [15, 9],
    });
  });

  it('splits a large batch into documents that each keep the table, one document set per table', () => {
    const { metrics, documents } = capturingMetrics();
    const many = Array.from({ length: 250 }, (_, i) => i);
    const latencies = latenciesOf('public.orders', many, many);
    latencies.byTable.set('public.items', { sourceToAppliedMs: [], arrivalToAppliedMs: [7] });

    publishLatencies(metrics, latencies);

    const tables = documents.map((d) => (d as Record<string, unknown>).Table);
    expect(tables).toEqual(['public.orders', 'public.orders', 'public.orders', 'public.items']);
    const published = documents
      .filter((d) => (d as Record<string, unknown>).Table === 'public.orders')
      .flatMap((d) => [(d as Record<string, unknown>)[METRICS.sourceToAppliedLatency]].flat());
    expect(published).toEqual(many);
  });

  it('publishes figures stored before (a config refresh) first, without the table', () => {
    const { metrics, documents } = capturingMetrics();
    metrics.addMetric(METRICS.configApplyLatency, 'Milliseconds', 40);

    publishLatencies(metrics, latenciesOf('public.orders', [1], [1]));

    expect(documents[0]).not.toHaveProperty('Table');
    expect(documents[0]).toHaveProperty(METRICS.configApplyLatency, 40);
    expect(documents[1]).toHaveProperty('Table', 'public.orders');
  });
});
