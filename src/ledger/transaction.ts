// The ledger's record of one transaction, as the ledger's users name it (its definition: src/ir/transaction.ts).
export type { Transaction } from '../ir/transaction.js';
