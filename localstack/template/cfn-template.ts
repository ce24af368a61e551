/** The parts of a CloudFormation template the local provisioner reads. */
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
}

/** `{ Ref: X }` → X; anything else → undefined. */
function refOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** `{ 'Fn::GetAtt': [X, 'Arn'] }` → X; anything else → undefined. */
function getAttArnOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const att = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  return Array.isArray(att) && att[1] === 'Arn' && typeof att[0] === 'string' ? att[0] : undefined;
}

/** The resources of one type, with their logical ids, in template order. */
function resourcesOfType(
  template: CfnTemplate,
  type: string,
): { logicalId: string; properties: Record<string, unknown> }[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([logicalId, r]) => ({ logicalId, properties: { ...(r.Properties ?? {}) } }));
}

export type { CfnResource, CfnTemplate };
export { getAttArnOf, refOf, resourcesOfType };
