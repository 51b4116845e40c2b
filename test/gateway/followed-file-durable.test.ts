// A lone gateway's records of followed background responses (src/gateway/stored-responses/followed-file.ts) outlive a
// power loss: each is written to a temporary file, fsync'd, renamed into place, and its folder fsync'd, so the file is
// whole or absent; one found empty or cut short anyway (a disk that lied, a hand edit) is skipped with a warning, not
// followed and not fatal, and set aside. No test can cut the power: this one watches the calls that make the write durable, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after } from 'node:test';
import { FileFollowedRecords } from '../../src/gateway/stored-responses/followed-file.js';
import { createLogger } from '../../src/observability/logger.js';
import { followedRecord } from '../support/followed.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-followed-durable-'));
after(() => rmSync(root, { recursive: true, force: true }));

const record = followedRecord;

function quietLogger() {
  const lines: string[] = [];
  return { logger: createLogger('debug', { write: (line: string) => void lines.push(line) }), lines };
}

/**
 * Runs `work` with node:fs/promises' open and rename, and every file handle's sync and datasync, noting what they were
 * called on (by file name), in order. The module under test imports them by name: syncBuiltinESMExports carries the
 * replacements to those bindings, and back.
 */
async function watchingFiles(work: () => Promise<void>): Promise<string[]> {
  const calls: string[] = [];
  const promises = fs.promises;
  const probe = await promises.open(root, 'r');
  const handle = Object.getPrototypeOf(probe) as { sync: () => Promise<void>; datasync: () => Promise<void> };
  await probe.close();
  const names = new WeakMap<object, string>();
  const original = { open: promises.open, rename: promises.rename, sync: handle.sync, datasync: handle.datasync };
  promises.open = async function (this: unknown, path: fs.PathLike, ...rest: unknown[]) {
    const opened = await (original.open as (...args: unknown[]) => Promise<fs.promises.FileHandle>).call(this, path, ...rest);
    names.set(opened, basename(String(path)));
    calls.push(`open ${basename(String(path))}`);
    return opened;
  } as typeof promises.open;
  promises.rename = async function (this: unknown, from: fs.PathLike, to: fs.PathLike) {
    calls.push(`rename ${basename(String(from))} ${basename(String(to))}`);
    return original.rename.call(this, from, to);
  };
  handle.sync = function (this: object) {
    calls.push(`sync ${names.get(this)}`);
    return original.sync.call(this);
  };
  handle.datasync = function (this: object) {
    // fdatasync: the data and what reading it back needs (its size), enough for a file renamed afterwards.
    calls.push(`sync ${names.get(this)}`);
    return original.datasync.call(this);
  };
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    Object.assign(promises, { open: original.open, rename: original.rename });
    Object.assign(handle, { sync: original.sync, datasync: original.datasync });
    syncBuiltinESMExports();
  }
  return calls;
}

test('a record is fsync`d before its rename, and its folder after it (and the folder`s own name once), before put resolves', async () => {
  const dir = join(root, 'fsync', 'background-responses');
  const records = new FileFollowedRecords(dir, quietLogger().logger);
  const calls = await watchingFiles(() => records.put(record('resp_durable')));
  const at = (call: string) => {
    const index = calls.indexOf(call);
    assert.notEqual(index, -1, `${call} in ${JSON.stringify(calls)}`);
    return index;
  };
  const written = at('sync resp_durable.json.tmp');
  const renamed = at('rename resp_durable.json.tmp resp_durable.json');
  const folderSynced = calls.lastIndexOf('sync background-responses');
  assert.ok(written < renamed, 'the data is on disk before the name points at it');
  assert.ok(folderSynced > renamed, `the rename itself is made durable: ${JSON.stringify(calls)}`);
  assert.ok(at('sync fsync') < renamed, 'the folder made for the records is made durable in its parent');
  assert.deepEqual(readdirSync(dir), ['resp_durable.json']);
});

test('an empty or cut-short record file is skipped with a warning naming its response; the others are adopted', async () => {
  const dir = join(root, 'truncated', 'background-responses');
  const killed = new FileFollowedRecords(dir, quietLogger().logger);
  await killed.put(record('resp_whole'));
  writeFileSync(join(dir, 'resp_empty.json'), '');
  writeFileSync(join(dir, 'resp_cut.json'), JSON.stringify(record('resp_cut')).slice(0, 40));
  const { logger, lines } = quietLogger();
  const next = new FileFollowedRecords(dir, logger);
  const adopted = await next.adopt('next', 60_000, 10);
  assert.deepEqual(
    adopted.map((each) => each.id),
    ['resp_whole'],
  );
  const warnings = lines.map((line) => JSON.parse(line) as { level: number; responseId?: string }).filter((line) => line.level === 40);
  assert.deepEqual(warnings.map((line) => line.responseId).sort(), ['resp_cut', 'resp_empty']);
  assert.deepEqual(await next.adopt('next', 60_000, 10), [], 'not adopted later either');
  assert.equal(await next.get('resp_empty'), null);
  assert.deepEqual(
    readdirSync(dir).sort(),
    ['resp_cut.json.unreadable', 'resp_empty.json.unreadable', 'resp_whole.json'],
    'kept aside for an operator, once: a sweep does not warn of them again',
  );
});
