/**
 * The CDK app: `cdk synth`, `cdk deploy` (and `cdklocal deploy`) run this. cdk-nag AwsSolutions runs during
 * synthesis; an unacknowledged finding fails it. Prop overrides come from the `cdcp` context value; the
 * consumer from `consumer` (`-c consumer=containers` deploys a worker fleet on ECS Fargate instead of the
 * Lambda consumer) and the fleet's settings from `containers`.
 */
import { createApp } from '../lib/app.js';

const { app } = createApp();
app.synth();
