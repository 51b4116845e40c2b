// The records of followed background responses (src/gateway/stored-responses/followed-records.ts), one contract for
// both homes, the primary's memory and Redis: the races of a dead owner's calls, adopted by two processes at once, taken
// by two (its follower and a delete through another), and the owner coming back after its claim was adopted.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryFollowedRecords, type FollowedRecords } from '../../src/gateway/stored-responses/followed-records.js';
import { RedisFollowedRecords } from '../../src/gateway/stored-responses/followed-redis.js';
import { FileFollowedRecords } from '../../src/gateway/stored-responses/followed-file.js';
import { createLogger } from '../../src/observability/logger.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { scratchDir } from '../support/scratch.js';
import { followedRecord } from '../support/followed.js';

const silent = createLogger('silent');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const record = followedRecord;

function contract(name: string, open: () => FollowedRecords) {
  describe(`followed records: ${name}`, () => {
    const records = open();
    after(() => records.close());

    test('a dead owner`s records are adopted once by two processes sweeping at once, and taken once', async () => {
      const ids = ['resp_a1', 'resp_a2', 'resp_a3', 'resp_a4'];
      for (const id of ids) await records.put(record(id), 'dead', 50);
      await sleep(120);
      const [one, two] = await Promise.all([records.adopt('one', 60_000, 10), records.adopt('two', 60_000, 10)]);
      const adopted = [...one, ...two].map((each) => each.id).sort();
      assert.deepEqual(adopted, ids, 'each adopted once');
      // The owner, back: its claims are not its own any more.
      assert.deepEqual((await records.renew(ids, 'dead', 60_000)).sort(), ids);
      assert.deepEqual(
        await records.renew(
          one.map((each) => each.id),
          'one',
          60_000,
        ),
        [],
      );
      // Taken twice at once (the follower at the end, a delete through another): one gets the record.
      const takes = await Promise.all([records.take('resp_a1'), records.take('resp_a1')]);
      assert.equal(takes.filter((taken) => taken !== null).length, 1);
      assert.equal(takes.find((taken) => taken !== null)!.row.requestId, 'req-resp_a1');
      for (const id of ids.slice(1)) assert.notEqual(await records.take(id), null);
      assert.deepEqual(await records.adopt('three', 60_000, 10), []);
    });

    test('claims renewed are not adopted; released ones are at once; adoption takes no more than asked', async () => {
      await records.put(record('resp_b1'), 'live', 100);
      await records.put(record('resp_b2'), 'live', 100);
      await records.put(record('resp_b3'), 'live', 100);
      await sleep(60);
      assert.deepEqual(await records.renew(['resp_b1', 'resp_b2', 'resp_b3'], 'live', 60_000), []);
      await sleep(80);
      assert.deepEqual(await records.adopt('other', 60_000, 10), [], 'renewed claims stand');
      await records.release(['resp_b1', 'resp_b2'], 'live');
      const adopted = await records.adopt('other', 60_000, 1);
      assert.equal(adopted.length, 1);
      assert.equal((await records.adopt('other', 60_000, 10)).length, 1);
      assert.deepEqual(await records.renew(['resp_b3'], 'live', 60_000), [], 'the one not released stays its owner`s');
      for (const id of ['resp_b1', 'resp_b2', 'resp_b3']) await records.take(id);
    });
  });
}

contract('the primary`s memory', () => new MemoryFollowedRecords());

const prefix = testKeyPrefix();
contract('Redis', () => new RedisFollowedRecords(TEST_REDIS_URL, prefix));
after(() => deleteTestKeys(prefix));

describe('followed records: a lone process`s folder', () => {
  test('what a killed process kept is adopted whole by the next on the folder, once, and taken once', async () => {
    const dir = join(scratchDir('sluice-followed-file-'), 'background-responses');
    const killed = new FileFollowedRecords(dir, silent);
    await killed.put(record('resp_f1'));
    await killed.put(record('resp_f2'));
    assert.deepEqual(await killed.adopt('killed', 60_000, 10), [], 'its own are not adopted again');
    // A write the kill interrupted, and a file that is no record: neither is followed.
    writeFileSync(join(dir, 'resp_f3.json.tmp'), '{"id":');
    writeFileSync(join(dir, 'resp_f4.json'), 'not json');
    const next = new FileFollowedRecords(dir, silent);
    assert.equal(await next.get('resp_f1'), null, 'not its own until adopted');
    const adopted = await next.adopt('next', 60_000, 10);
    assert.deepEqual(adopted.map((each) => each.id).sort(), ['resp_f1', 'resp_f2']);
    assert.equal(adopted.find((each) => each.id === 'resp_f1')!.row.requestId, 'req-resp_f1');
    assert.deepEqual(await next.adopt('next', 60_000, 10), []);
    const takes = await Promise.all([next.take('resp_f1'), next.take('resp_f1')]);
    assert.equal(takes.filter((taken) => taken !== null).length, 1);
    assert.notEqual(await next.take('resp_f2'), null);
    assert.deepEqual(
      readdirSync(dir),
      ['resp_f4.json.unreadable'],
      'the folder empty once every call is recorded, but for what it could not read',
    );
  });

  test('a record whose file vanished is still taken; one whose file cannot be removed stays to be taken later, not lost', async () => {
    const dir = join(scratchDir('sluice-followed-file-'), 'background-responses');
    const records = new FileFollowedRecords(dir, silent);
    await records.put(record('resp_gone'));
    rmSync(join(dir, 'resp_gone.json'));
    assert.equal((await records.take('resp_gone'))?.row.requestId, 'req-resp_gone', 'the taker records it');
    await records.put(record('resp_stuck'));
    // Something the process cannot unlink where its file was (a directory): the take fails, and the follower retries.
    rmSync(join(dir, 'resp_stuck.json'));
    mkdirSync(join(dir, 'resp_stuck.json', 'x'), { recursive: true });
    await assert.rejects(records.take('resp_stuck'));
    rmSync(join(dir, 'resp_stuck.json'), { recursive: true });
    assert.equal((await records.take('resp_stuck'))?.row.requestId, 'req-resp_stuck', 'taken at the retry, so recorded once');
  });

  test('a sweep while the process writes records (its own .tmp files) spoils none of them', async () => {
    const dir = join(scratchDir('sluice-followed-file-'), 'background-responses');
    const records = new FileFollowedRecords(dir, silent);
    await records.put(record('resp_first'));
    const ids = Array.from({ length: 200 }, (_, i) => `resp_w${i}`);
    // The sweep's timer fires whenever it does: here, while a burst of background calls is being kept.
    const settled = await Promise.allSettled([
      ...ids.map((id) => records.put(record(id))),
      ...Array.from({ length: 20 }, (_, i) => sleep(i).then(() => records.adopt('lone', 60_000, 1_000))),
    ]);
    assert.deepEqual(
      settled.filter((each) => each.status === 'rejected').map((each) => String((each as PromiseRejectedResult).reason)),
      [],
    );
    assert.equal(readdirSync(dir).filter((name) => name.endsWith('.json')).length, ids.length + 1);
  });
});
