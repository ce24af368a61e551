/** A prop of the CdcProcessor construct that CloudFormation or the runtime would reject or misuse. */
class CdcProcessorPropsError extends Error {
  public override readonly name = 'CdcProcessorPropsError';
  /** The prop that was rejected. */
  public readonly prop: string;
  /** The value received. */
  public readonly value: unknown;

  public constructor(prop: string, value: unknown, problem: string) {
    super(`CdcProcessor: ${prop} ${problem}; received ${JSON.stringify(value)}`);
    this.prop = prop;
    this.value = value;
  }
}

export { CdcProcessorPropsError };
