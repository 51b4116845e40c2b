// Files that must survive a power loss whole or not at all: the ledger's spooled batches, and a lone gateway's records
// of followed background responses (in a folder of that spool). A rename alone is not enough: without an fsync of the
// file first, the name can land on disk before the data (an empty or short file after the cut); without an fsync of
// the folder after, the rename itself can be lost.
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** A temporary file (`name`.tmp), fsync'd, renamed into place, then the folder fsync'd: a crash leaves the whole file or none of it. */
export async function writeDurably(dir: string, name: string, payload: string | Uint8Array): Promise<void> {
  const temporary = join(dir, `${name}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(payload);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(dir, name));
  await syncFolder(dir);
}

/** Makes the names in a folder durable (a rename, a file or folder made in it). */
export async function syncFolder(dir: string): Promise<void> {
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } catch {
    // Some platforms cannot fsync a folder; its names are then as durable as they make them.
  } finally {
    await folder.close();
  }
}
