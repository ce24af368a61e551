/**
 * Tracing, the AppConfig rollout and its rollback monitor, and the runbook every alarm names: the stack is
 * synthesized once (and once more with tracing off).
 */
import { readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CdcProcessorStack } from '../../lib/cdc-processor-stack.js';
import { WIDGETS } from '../../lib/dashboard.js';
import { FLEET_WIDGETS } from '../../lib/fleet-monitoring.js';
import { RUNBOOK } from '../../lib/runbook.js';
import { anchorsOf } from '../helpers/markdown.js';
import { arnOf, logicalIdOf, refOf, statementsOfRole, synthStack } from './helpers/synth.js';

const RUNBOOK_PAGE = 'docs/operations.md';
const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

const RUNBOOK_URL = 'https://git.example.com/cdc/blob/main/docs/operations.md';

let stack: CdcProcessorStack;
let template: Template;
/** Every prop of this file's concern changed: tracing off, another rollout, another runbook URL. */
let custom: ReturnType<typeof synthStack>;

beforeAll(() => {
  ({ stack, template } = synthStack());
  custom = synthStack({
    tracing: false,
    configDeploymentDuration: Duration.minutes(30),
    configFinalBakeTime: Duration.minutes(15),
    configGrowthFactor: 10,
    runbookUrl: RUNBOOK_URL,
    dashboard: false,
  });
});

/** Every alarm of the template, composite ones included: logical id and description. */
function alarmDescriptions(t: Template): [string, string][] {
  return ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'].flatMap((type) =>
    Object.entries(t.findResources(type)).map(
      ([id, r]) => [id, r.Properties.AlarmDescription as string] as [string, string],
    ),
  );
}

describe('Prop: tracing', () => {
  it('turns on X-Ray active tracing and Powertools Tracer in both functions by default', () => {
    for (const fn of [stack.processor.consumer!, stack.processor.clusterManager]) {
      const properties = template.toJSON().Resources[logicalIdOf(fn.function)].Properties;
      expect(properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('true');
      const xray = statementsOfRole(template, logicalIdOf(fn.role)).filter((s) =>
        XRAY_ACTIONS.includes([s.Action].flat()[0]!),
      );
      expect(xray).toEqual([{ Effect: 'Allow', Action: XRAY_ACTIONS, Resource: '*' }]);
    }
  });

  it('with tracing: false, leaves tracing off, tells the tracer, and grants no X-Ray action', () => {
    const off = custom;
    for (const fn of [off.stack.processor.consumer!, off.stack.processor.clusterManager]) {
      const properties = off.template.toJSON().Resources[logicalIdOf(fn.function)].Properties;
      expect(properties.TracingConfig).toBeUndefined();
      expect(properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('false');
      const actions = statementsOfRole(off.template, logicalIdOf(fn.role)).flatMap((s) => [s.Action].flat());
      expect(actions.filter((a) => a.startsWith('xray:'))).toEqual([]);
    }
  });
});

describe('Resource: AppConfig rollout', () => {
  it('deploys gradually: linear, 20 % of the consumers per step over 5 minutes, then 5 minutes of bake', () => {
    template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'LINEAR',
      GrowthFactor: 20,
      DeploymentDurationInMinutes: 5,
      FinalBakeTimeInMinutes: 5,
      ReplicateTo: 'NONE',
    });
  });

  it('follows the rollout props', () => {
    custom.template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthFactor: 10,
      DeploymentDurationInMinutes: 30,
      FinalBakeTimeInMinutes: 15,
    });
  });

  it('monitors the configuration alarm, read through a role AppConfig assumes', () => {
    const { config, monitoring } = stack.processor;
    const environment = template.toJSON().Resources[logicalIdOf(config.environment)].Properties;
    expect(environment.Monitors).toEqual([
      { AlarmArn: arnOf(monitoring.configRollbackAlarm), AlarmRoleArn: arnOf(config.monitorRole!) },
    ]);
  });

  it('rolls back on consumer errors, changes parked for review, state or coordination throttles', () => {
    const { alarms, configRollbackAlarm } = stack.processor.monitoring;
    const rule = JSON.stringify(
      template.toJSON().Resources[logicalIdOf(configRollbackAlarm)].Properties.AlarmRule,
    );
    for (const member of [
      alarms.consumerErrors,
      alarms.parked,
      alarms.stateTableThrottles,
      alarms.coordinationTableThrottles,
    ])
      expect(rule).toContain(JSON.stringify(arnOf(member)).slice(1, -1));
    // Shedding is deployed through AppConfig exactly when lag is high: lag must not roll it back.
    for (const other of [alarms.iteratorAge, alarms.sourceLatency, alarms.shedding])
      expect(rule).not.toContain(logicalIdOf(other));
  });

  it('deploys the first version with the stack, to the monitored environment', () => {
    template.hasResourceProperties('AWS::AppConfig::Deployment', {
      EnvironmentId: refOf(stack.processor.config.environment),
      DeploymentStrategyId: refOf(stack.processor.config.deploymentStrategy),
    });
  });
});

describe('Runbook: every alarm names its section', () => {
  const page = readFileSync(RUNBOOK_PAGE, 'utf8');
  const anchors = anchorsOf(page);

  it('ends every alarm description with a link to a section of docs/operations.md that exists', () => {
    const descriptions = alarmDescriptions(template);
    expect(descriptions).toHaveLength(17);
    const broken = descriptions.flatMap(([id, description]) => {
      const link = / Runbook: docs\/operations\.md#([a-z0-9-]+)$/.exec(description);
      if (link === null) return [`${id}: no runbook link at the end of "${description}"`];
      return anchors.has(link[1]!) ? [] : [`${id}: docs/operations.md has no section #${link[1]}`];
    });
    expect(broken).toEqual([]);
  });

  it('has a section for every runbook anchor the construct knows', () => {
    expect(Object.values(RUNBOOK).filter((anchor) => !anchors.has(anchor))).toEqual([]);
  });

  it('names only dashboard widgets that exist (a fleet adds its own row)', () => {
    const titles = new Set<string>([...Object.values(WIDGETS), ...Object.values(FLEET_WIDGETS)]);
    const named = [...page.matchAll(/\*\*Dashboard\*\*: (.*)$/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/\*([^*]+)\*/g)].map((t) => t[1]!),
    );
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((title) => !titles.has(title))).toEqual([]);
  });

  it('links to the runbook URL given in the props', () => {
    for (const [, description] of alarmDescriptions(custom.template))
      expect(description).toMatch(new RegExp(` Runbook: ${RUNBOOK_URL.replace(/\./g, '\\.')}#[a-z-]+$`));
  });
});
