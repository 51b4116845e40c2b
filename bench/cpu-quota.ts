// CPU quotas for the bench's targets, through the Linux CFS bandwidth controller (cgroup v1 `cpu` or cgroup v2).
//
// Why: on a small machine the load generator, the mock upstream and Redis share the cores with the target, so a target
// given every core cannot show what its workers add: with two workers on two cores, Sluice competes with its own load.
// Given a quota instead, a Sluice may use `share` of a core per worker, and the load keeps the rest of the machine: one
// worker against all workers then compares a target given one unit of CPU with the same target given N units, which is
// what "every core" promises on a machine where the load comes from elsewhere. A quota is CPU time per period, not a
// pinned core: the processes may run on any core, until the group has spent its time in the period.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processTree } from '../test/support/processes.js';

/** A short period, so a throttled target waits at most a few ms rather than the default 100 ms. */
const PERIOD_US = 10_000;

interface Hierarchy {
  /** Where groups are made. */
  root: string;
  /** Sets a group's quota, in CPU µs per PERIOD_US, or lifts it (null). */
  limit(group: string, quotaUs: number | null): void;
}

function v1(root: string): Hierarchy {
  return {
    root,
    limit(group, quotaUs) {
      writeFileSync(join(group, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(group, 'cpu.cfs_quota_us'), String(quotaUs ?? -1));
    },
  };
}

function v2(root: string): Hierarchy {
  return {
    root,
    limit(group, quotaUs) {
      writeFileSync(join(group, 'cpu.max'), `${quotaUs ?? 'max'} ${PERIOD_US}`);
    },
  };
}

/** The writable CPU bandwidth controller of this machine, or why there is none. */
function findHierarchy(): Hierarchy | string {
  if (process.platform !== 'linux') return 'not Linux';
  const candidates: Hierarchy[] = [];
  if (existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')) candidates.push(v1('/sys/fs/cgroup/cpu'));
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    try {
      if (readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) candidates.push(v2(root));
    } catch {
      /* not a cgroup v2 root with the cpu controller */
    }
  }
  for (const hierarchy of candidates) {
    const probe = join(hierarchy.root, `sluice-bench-probe-${randomBytes(3).toString('hex')}`);
    try {
      mkdirSync(probe);
      hierarchy.limit(probe, PERIOD_US);
      hierarchy.limit(probe, null);
      return hierarchy;
    } catch {
      /* read-only, or not ours to change */
    } finally {
      try {
        rmdirSync(probe);
      } catch {
        /* never made */
      }
    }
  }
  return candidates.length === 0
    ? 'no cgroup CPU controller is mounted'
    : 'the cgroup CPU controller is not writable here (run as root, outside a container that hides it)';
}

export interface CpuQuota {
  /** A core's share per worker. */
  share: number;
  /**
   * Puts a process and every process it has started into a group of their own, not limited yet; processes it starts
   * later (a replaced worker) join the group by themselves. Null, or the pids that could not be moved.
   */
  confine(rootPid: number): Promise<string | null>;
  /** Limits a confined tree to `workers` × the share of a core, or lifts the limit (null). */
  limit(rootPid: number, workers: number | null): void;
  /** Removes the groups (their processes gone or moved out). */
  release(): void;
}

export type QuotaChoice = { quota: CpuQuota } | { quota: null; why: string };

/**
 * `setting`: a share of a core per worker (0 < share <= 1), `none`, or undefined for the default: `(cores - 1) / cores`
 * (half a core each on 2 cores), so all workers together leave one core's worth of time to the load.
 */
export function cpuQuota(setting: string | undefined, cores: number): QuotaChoice {
  if (setting?.trim() === 'none') return { quota: null, why: 'BENCH_CPU_SHARE=none' };
  const share = setting === undefined || setting.trim() === '' ? (cores - 1) / cores : Number(setting);
  if (!(share > 0 && share <= 1)) {
    if (setting === undefined || setting.trim() === '') return { quota: null, why: 'one core: no room for the load beside a quota' };
    throw new Error(`BENCH_CPU_SHARE: expected a share of a core per worker in (0, 1] or none, got ${setting}`);
  }
  const hierarchy = findHierarchy();
  if (typeof hierarchy === 'string') return { quota: null, why: hierarchy };
  const run = `sluice-bench-${randomBytes(4).toString('hex')}`;
  const groups = new Map<number, string>();
  const groupOf = (rootPid: number): string => {
    const group = groups.get(rootPid);
    if (group === undefined) throw new Error(`process ${rootPid} was never confined`);
    return group;
  };
  return {
    quota: {
      share,
      async confine(rootPid) {
        const group = join(hierarchy.root, `${run}-${rootPid}`);
        if (!groups.has(rootPid)) {
          mkdirSync(group);
          hierarchy.limit(group, null);
          groups.set(rootPid, group);
        }
        // A process forked while its parent was being moved lands in the parent's old group: move until whole.
        let escaped: number[] = [];
        for (let attempt = 0; attempt < 20; attempt++) {
          for (const pid of processTree(rootPid)) {
            try {
              writeFileSync(join(group, 'cgroup.procs'), String(pid));
            } catch {
              /* exited since the listing */
            }
          }
          const members = new Set(
            readFileSync(join(group, 'cgroup.procs'), 'utf8')
              .split('\n')
              .filter((line) => line !== '')
              .map(Number),
          );
          escaped = processTree(rootPid).filter((pid) => !members.has(pid));
          if (escaped.length === 0) return null;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return `processes ${escaped.join(', ')} of its tree could not be given a CPU quota`;
      },
      limit(rootPid, workers) {
        hierarchy.limit(groupOf(rootPid), workers === null ? null : Math.round(share * workers * PERIOD_US));
      },
      release() {
        for (const group of groups.values()) {
          try {
            rmdirSync(group);
          } catch {
            /* a process still in it: the group goes when the machine restarts */
          }
        }
        groups.clear();
      },
    },
  };
}
