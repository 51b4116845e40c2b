// Runs in a thread of its own, once: imports o200k_base's ranks (a 2.2 MB module of literals) and hands them to the
// thread that asked, then ends. Compiled in the gateway's own thread, that module's code, source and the compiler's
// memory stayed in the process: a governed gateway idled about 20 MB larger than with the ranks received here as data.
import { parentPort } from 'node:worker_threads';
import ranks from 'gpt-tokenizer/bpeRanks/o200k_base';

parentPort!.postMessage(ranks);
