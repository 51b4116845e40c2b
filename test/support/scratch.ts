// Scratch folders for tests (a Sluice's database and spool, a CLI's working folder, certificates): made under the
// system's temporary folder and removed when the test file's process exits, so a run leaves nothing behind in /tmp.
// One still used by a process that outlives the test file (a `sluice` it started and left running, whose working
// folder or open files are in it) is left alone: removing it would pull the ground from under that process.
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';

const made: string[] = [];

/** A new empty folder named `<prefix>XXXXXX` under the temporary folder, removed when this test file's process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // 'exit' listeners run synchronously as the process ends: every test and hook of the file has finished by then.
  if (made.length === 0) process.once('exit', removeScratchDirs);
  made.push(dir);
  return dir;
}

function removeScratchDirs(): void {
  const held = pathsHeldByOthers();
  for (const dir of made) {
    // /proc shows resolved paths; the temporary folder may be reached through a link.
    const real = realOrSelf(dir);
    if (held.some((path) => path === real || path.startsWith(real + sep))) continue;
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * The working folders and open files of the other processes this user can see (Linux: /proc); an empty list where
 * there is no /proc, so the folders are removed there as everywhere else once the test file ends.
 */
function pathsHeldByOthers(): string[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid);
  } catch {
    return [];
  }
  const paths: string[] = [];
  for (const pid of pids) {
    const link = (path: string) => {
      try {
        paths.push(readlinkSync(path));
      } catch {
        /* another user's, or gone since the listing */
      }
    };
    link(`/proc/${pid}/cwd`);
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      /* another user's, or gone */
    }
    for (const fd of fds) link(`/proc/${pid}/fd/${fd}`);
  }
  return paths;
}
