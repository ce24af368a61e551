import { InMemoryCoordinationStore } from '../../../core/coordination/index.js';
import { describeCoordinationStoreContract } from '../../helpers/coordination-store-contract.js';

describeCoordinationStoreContract('in-memory', async () => new InMemoryCoordinationStore());
