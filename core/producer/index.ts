export { OptionsError } from '../errors.js';
export { ProducerError, RecordsRejectedError } from './errors.js';
export {
  type Accepted,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  type ProducerStats,
} from './producer.js';
