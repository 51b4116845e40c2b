// The in-memory counter store against the shared counter store contract, on a virtual clock.
import { MemoryCounterStore } from '../../src/counters/memory.js';
import { counterStoreContract, virtualClock } from './counter-store.contract.js';

counterStoreContract('memory', async () => new MemoryCounterStore(), virtualClock());
