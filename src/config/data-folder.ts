// The files Sluice keeps in its data folder (beside the SQLite database, else ./data): the master key, the bootstrap
// admin token and the default consumer's key. A file there is read back on every start, never made anew; a new one is
// written aside and linked into place, so no reader sees half a file and a file another process made is never replaced.
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from './load.js';
import { sqlitePath } from './storage.js';

export type DataFileName = 'master.key' | 'admin.token' | 'default-consumer.key';

export function dataFile(storage: string, name: DataFileName): string {
  const folder = storage.startsWith('sqlite:') ? dirname(sqlitePath(storage)) : './data';
  return join(folder, name);
}

/** The file's one line, or null when there is no file; an empty file is an error (deleting it has a new one made). */
export function readDataFile(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const value = text.trim();
  if (value === '') throw new ConfigError(`${path} is empty: delete it to have a new one made at the next start`);
  return value;
}

/**
 * Creates the file (readable by this user only) holding `value`, unless one is already there: then it is left as it
 * is and false is returned. link() is what fails when the name exists; rename() would replace it.
 */
export function createDataFile(path: string, value: string): boolean {
  mkdirSync(dirname(path), { recursive: true });
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, `${value}\n`, { mode: 0o600 });
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}
