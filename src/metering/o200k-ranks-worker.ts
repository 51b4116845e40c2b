// Runs in a thread of its own, once: reads o200k_base's ranks from gpt-tokenizer's rank file (tiktoken-file.ts), builds
// their table (rank-table.ts) and hands it to the thread that asked, with the few ranks that are bytes rather than text,
// then ends. Built in the gateway's own thread, the table's making would pause its event loop for some 200 ms.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { buildRankTable } from './rank-table.js';
import { o200kRankFile, readTiktokenRanks } from './tiktoken-file.js';
import type { O200kRanks } from './tokenizer.js';

// Synchronous: this thread has nothing else to do.
const ranks = readTiktokenRanks(readFileSync(o200kRankFile(), 'latin1'));
const table = buildRankTable(ranks);
const byteRanks: O200kRanks['byteRanks'] = [];
ranks.forEach((token, rank) => {
  if (typeof token !== 'string') byteRanks.push([rank, token]);
});
const message: O200kRanks = { table, byteRanks };
parentPort!.postMessage(message, [table.narrow.buffer, table.wide.buffer, table.starts.buffer, table.lengths.buffer, table.slots.buffer]);
