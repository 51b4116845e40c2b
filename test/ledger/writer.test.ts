// The ledger writer against both stores: a record the store refuses costs only itself; a locked SQLite file sends batches
// to the spool, which a restart replays; past the spool's bound records are dropped, and counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { LedgerWriter } from '../../src/ledger/writer.js';
import { ledgerOptions, writerRecord } from '../support/ledger.js';
import { describeOnStore } from '../support/director-stores.js';
import { TcpRelay } from '../support/tcp-relay.js';
import { until } from '../support/until.js';
import { scratchDir } from '../support/scratch.js';

describeOnStore('postgres', 'the ledger writer', (db) => {
  let client: pg.Client;

  before(async () => {
    client = new pg.Client({ connectionString: db.storage });
    await client.connect();
  });

  after(async () => {
    await client?.end();
  });

  const stores: Array<{ name: string; storage: () => string; count: (storage: string, consumer: string) => Promise<number> }> = [
    {
      name: 'SQLite',
      storage: () => `sqlite:${join(scratchDir('sluice-ledger-'), 'ledger.db')}`,
      count: async (storage, consumer) => sqliteCount(storage, consumer),
    },
    {
      name: 'PostgreSQL',
      storage: () => db.storage,
      count: async (_storage, consumer) =>
        (await client.query<{ count: number }>('SELECT COUNT(*)::int AS count FROM transactions WHERE consumer = $1', [consumer])).rows[0]!
          .count,
    },
  ];

  for (const store of stores) {
    test(`${store.name}: a record the store refuses is dropped and counted alone; the rest of its batch is written`, async () => {
      const storage = store.storage();
      const writer = await LedgerWriter.open(ledgerOptions(storage, { flushIntervalMs: 60_000 }));
      const consumer = `refused-${store.name}`;
      try {
        for (let i = 0; i < 100; i++) {
          // api is NOT NULL in both databases: no repair makes this record storable.
          writer.append(
            i === 37
              ? { ...writerRecord(`refused-${i}`, consumer), api: null as unknown as string }
              : writerRecord(`refused-${i}`, consumer),
          );
        }
        await writer.drain();
        const status = writer.status();
        assert.equal(status.droppedRecords.refused, 1);
        assert.equal(status.writtenRecords, 99);
        assert.ok(status.writeFailures.refused >= 1);
        assert.equal(status.writeFailures.unavailable, 0, 'a refusal is not an outage');
        assert.equal(status.behind, false);
      } finally {
        await writer.close();
      }
      assert.equal(await store.count(storage, consumer), 99);
    });
  }

  test('SQLite locked: batches go to the spool, stay there through a stop, and the next start writes each once', async () => {
    const storage = stores[0]!.storage();
    const options = ledgerOptions(storage, {
      flushIntervalMs: 60_000,
      maxBatch: 10,
      maxBufferedRecords: 10,
      retry: { initialBackoffMs: 10, maxBackoffMs: 50 },
    });
    const first = await LedgerWriter.open(options);
    // Another connection holds the write lock: the writer thread waits out its busy timeout, then fails with SQLITE_BUSY.
    const locker = new Database(storage.slice('sqlite:'.length));
    locker.exec('BEGIN IMMEDIATE');
    try {
      for (let i = 0; i < 50; i++) first.append(writerRecord(`locked-${i}`, 'locked'));
      await until('the spool holds what memory cannot', () => first.status().spooledRecords === 40);
      await until('the writer finds the store failing', () => first.status().failing);
      assert.equal(first.status().behind, true);
      await first.close();
      assert.equal(readdirSync(options.spoolDir).filter((name) => name.endsWith('.batch')).length, 5, 'every batch in its own file');
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    const second = await LedgerWriter.open(options);
    try {
      await second.drain();
      assert.equal(second.status().writtenRecords, 50);
      assert.equal(second.status().behind, false);
    } finally {
      await second.close();
    }
    assert.equal(sqliteCount(storage, 'locked'), 50);
    assert.deepEqual(
      readdirSync(options.spoolDir).filter((name) => name.endsWith('.batch')),
      [],
      'replayed files are deleted',
    );
  });

  test('SQLite: a writer thread that dies is started again, and the batches it held are written', async () => {
    const storage = stores[0]!.storage();
    const writer = await LedgerWriter.open(
      ledgerOptions(storage, { flushIntervalMs: 60_000, retry: { initialBackoffMs: 10, maxBackoffMs: 50 } }),
    );
    try {
      // Reaching inside: nothing a test can send makes the thread die, but an out-of-memory or a native fault could.
      const thread = (writer as unknown as { sink: { worker: { terminate(): Promise<number> } } }).sink.worker;
      await thread.terminate();
      for (let i = 0; i < 20; i++) writer.append(writerRecord(`thread-${i}`, 'thread'));
      await writer.drain();
      assert.equal(writer.status().writtenRecords, 20);
    } finally {
      await writer.close();
    }
    assert.equal(sqliteCount(storage, 'thread'), 20);
  });

  test('past the spool bound records are dropped and counted; those held are written when the store returns', async () => {
    const relay = await TcpRelay.start({ host: '127.0.0.1', port: 5432 });
    const storage = db.storage.replace('127.0.0.1:5432', `127.0.0.1:${relay.port}`);
    // Room for one 10-record batch in memory and none on disk.
    const writer = await LedgerWriter.open(
      ledgerOptions(storage, {
        flushIntervalMs: 60_000,
        maxBatch: 10,
        maxBufferedRecords: 10,
        maxSpoolBytes: 1,
        retry: { initialBackoffMs: 10, maxBackoffMs: 50 },
      }),
    );
    try {
      relay.cut();
      for (let i = 0; i < 30; i++) writer.append(writerRecord(`bounded-${i}`, 'bounded'));
      await until('the writer finds the store failing', () => writer.status().failing);
      assert.deepEqual(writer.status().droppedRecords, { refused: 0, spoolFull: 20, spoolFailed: 0 });
      relay.restore();
      await writer.drain();
      assert.equal(writer.status().writtenRecords, 10);
    } finally {
      await writer.close();
      await relay.close();
    }
    assert.equal(await stores[1]!.count(db.storage, 'bounded'), 10);
  });
  // A reload that adds a budget drains the ledger before seeding it; under steady traffic that drain never ended, since
  // it also waited for the records appended after it (the reload hung, and every later one behind it).
  test('drain ends once what was appended before it is written, while records keep coming', async () => {
    const storage = `sqlite:${join(scratchDir('sluice-ledger-'), 'ledger.db')}`;
    const writer = await LedgerWriter.open(ledgerOptions(storage, { flushIntervalMs: 60_000 }));
    let appended = 0;
    const traffic = setInterval(() => writer.append(writerRecord(`steady-${appended++}`, 'steady')), 1);
    try {
      for (let i = 0; i < 20; i++) writer.append(writerRecord(`before-${i}`, 'before'));
      await writer.drain();
      assert.equal(sqliteCount(storage, 'before'), 20);
    } finally {
      clearInterval(traffic);
      await writer.close();
    }
    assert.equal(sqliteCount(storage, 'steady'), appended, 'close writes what came after');
  });
});

function sqliteCount(storage: string, consumer: string): number {
  const db = new Database(storage.slice('sqlite:'.length), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS count FROM transactions WHERE consumer = ?').get(consumer) as { count: number }).count;
  } finally {
    db.close();
  }
}
