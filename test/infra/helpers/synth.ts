import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppProps, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';
import { CdcProcessorStack, type CdcProcessorStackProps } from '../../../lib/cdc-processor-stack.js';

/** Context that skips asset bundling: infra tests assert the template, not the bundles. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** The cloud assemblies of the test file: one temporary folder, removed when the file has run. */
let assemblies: string | undefined;
afterAll(() => {
  if (assemblies !== undefined) rmSync(assemblies, { recursive: true, force: true });
});

/**
 * Props of an App in a test: no bundling (and `context`), its cloud assembly in a folder of the test file's
 * temporary folder. Without an outdir, every synthesis would leave a /tmp/cdk.out* folder behind.
 */
function testAppProps(context: Readonly<Record<string, unknown>> = {}): AppProps {
  assemblies ??= mkdtempSync(join(tmpdir(), 'cdcp-infra-'));
  return { outdir: mkdtempSync(join(assemblies, 'cdk.out-')), context: { ...NO_BUNDLING, ...context } };
}

/** A CdcProcessorStack synthesized without bundling, and its template. */
function synthStack(props: CdcProcessorStackProps = {}): { stack: CdcProcessorStack; template: Template } {
  const app = new App(testAppProps());
  const stack = new CdcProcessorStack(app, 'Test', props);
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource (an L2's default child, or the L1 itself). */
function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}

/** `{ 'Fn::GetAtt': [id, 'Arn'] }` of a construct. */
function arnOf(construct: IConstruct): { 'Fn::GetAtt': [string, string] } {
  return { 'Fn::GetAtt': [logicalIdOf(construct), 'Arn'] };
}

/** `{ Ref: id }` of a construct. */
function refOf(construct: IConstruct): { Ref: string } {
  return { Ref: logicalIdOf(construct) };
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of the inline policies attached to a role. */
function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    return roles.includes(roleLogicalId) ? (policy.Properties.PolicyDocument.Statement as Statement[]) : [];
  });
}

export type { Statement };
export { arnOf, logicalIdOf, refOf, statementsOfRole, synthStack, testAppProps };
