// Runs in a thread of its own, once: imports o200k_base's ranks (a 2.2 MB module of literals), builds their table
// (rank-table.ts) and hands it to the thread that asked, with the few ranks that are bytes rather than text, then ends.
// Compiled in the gateway's own thread, that module's code, source and the compiler's memory stayed in the process: a
// governed gateway idled about 20 MB larger than with the ranks received here as data.
import { parentPort } from 'node:worker_threads';
import ranks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { buildRankTable } from './rank-table.js';
import type { O200kRanks } from './tokenizer.js';

const table = buildRankTable(ranks);
const byteRanks: O200kRanks['byteRanks'] = [];
ranks.forEach((token, rank) => {
  if (typeof token !== 'string') byteRanks.push([rank, token]);
});
const message: O200kRanks = { table, byteRanks };
parentPort!.postMessage(message, [table.narrow.buffer, table.wide.buffer, table.starts.buffer, table.lengths.buffer, table.slots.buffer]);
