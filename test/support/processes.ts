// Process trees from /proc (Linux), for the tests and benchmarks that run Sluice's primary and its workers: which
// pids are a primary's workers, and a process with all its descendants.
import { readdirSync, readFileSync } from 'node:fs';

/** Each process's parent pid, read from /proc/<pid>/stat (the field after the command, which may hold spaces). */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone since the listing */
    }
  }
  return parentOf;
}

/** The pids of a process's children (the workers of a primary). */
export function childrenOf(pid: number): number[] {
  return [...parents()].filter(([, parent]) => parent === pid).map(([child]) => child);
}

/** A process and its descendants. */
export function processTree(root: number): number[] {
  const parentOf = parents();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, parent] of parentOf) if (parent === tree[i]) tree.push(pid);
  }
  return tree;
}
