/**
 * A projection module that cannot be used: it is missing, does not build, has no default export, or its default
 * export is not a projection; or a replay was asked to apply a projection other than the one deployed.
 */
class ProjectionModuleError extends Error {
  public override readonly name = 'ProjectionModuleError';
  /** The module's path as given. */
  public readonly entry: string | undefined;

  public constructor(message: string, options?: ErrorOptions & { readonly entry?: string }) {
    super(message, options);
    this.entry = options?.entry;
  }
}

export { ProjectionModuleError };
