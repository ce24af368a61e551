/** The synthesized template cannot be provisioned locally as it stands (it lacks or doubles something). */
class TemplateError extends Error {
  public override readonly name = 'TemplateError';
}

/** A local resource exists with a shape other than the template's, or an engine refused to create it. */
class TemplateProvisioningError extends Error {
  public override readonly name = 'TemplateProvisioningError';
}

export { TemplateError, TemplateProvisioningError };
