/**
 * The counting projection as a projection module (its default export), for worker processes started with
 * `--projection` / CDCP_WORKER_PROJECTION_MODULE: runs that must prove exactly-once effects load it.
 */
import { countingProjection } from './effect-audit.js';

export default countingProjection;
