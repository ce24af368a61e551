import { InMemoryParkedStore } from '../../../core/state/index.js';
import { describeParkedStoreContract } from '../../helpers/parked-store-contract.js';

describeParkedStoreContract('in-memory', async () => new InMemoryParkedStore());
