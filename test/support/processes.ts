// Process trees from /proc (Linux), for the tests and benchmarks that run Sluice's primary and its workers: which
// pids are a primary's workers, a process with all its descendants, and the connections a process holds.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

/** How many established TCP connections to local `port` a process holds (Linux: /proc/net/tcp and its fds). */
export function connectionsHeld(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      // local address (hex ip:port), remote, state (01: ESTABLISHED), ..., inode (the 10th field)
      if (fields.length > 9 && fields[3] === '01' && Number.parseInt(fields[1]!.split(':')[1]!, 16) === port) inodes.add(fields[9]!);
    }
  }
  let held = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) held++;
    } catch {
      /* closed since the listing */
    }
  }
  return held;
}
