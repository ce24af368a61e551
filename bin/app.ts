/**
 * The CDK app: `cdk synth`, `cdk deploy` (and `cdklocal deploy`) run this. cdk-nag AwsSolutions runs during
 * synthesis; an unacknowledged finding fails it. Prop overrides come from the `cdcp` context value.
 */
import { createApp } from '../lib/app.js';

const { app } = createApp();
app.synth();
