import { InMemoryHandOffKeys } from '../../../core/workers/hand-off-keys.js';
import { describeHandOffKeysContract } from '../../helpers/hand-off-keys-contract.js';

describeHandOffKeysContract('in memory', async () => new InMemoryHandOffKeys());
