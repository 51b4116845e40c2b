// Stored Responses API responses on the gateway: their owners recorded after each passed-through answer is sent (a
// failure logged and counted, never the client's), and looked up for the calls on them (handlers/stored-responses.ts).
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ResponsesConfig } from '../../config/responses-schema.js';
import type { CounterSettings } from '../../counters/open.js';
import { SluiceError } from '../../errors.js';
import { JournaledResponseRecords } from './journaled.js';
import { isResponseId, type ResponseOwner, type ResponseRecords } from './records.js';
import { RedisResponseRecords } from './redis.js';
import type { FollowedRecord, FollowedRecords } from './followed-records.js';
import { RedisFollowedRecords } from './followed-redis.js';
import { FileFollowedRecords } from './followed-file.js';

/** While the record cannot be read, previous_response_id checks that fail are logged at most this often (each is counted). */
const UNCHECKED_WARNING_INTERVAL_MS = 10_000;

/** Where the record of stored responses is: `responses.store`, else the counters' backend, under its key prefix. */
function recordsHome(config: ResponsesConfig, counters: Pick<CounterSettings, 'url' | 'keyPrefix'>): { store: string; keyPrefix: string } {
  return { store: config.store ?? counters.url, keyPrefix: config.keyPrefix ?? `${counters.keyPrefix}responses:` };
}

/**
 * The records of the background responses followed, beside the record of stored responses: in its Redis, or the
 * primary's (`shared`, in a worker); for a lone process in memory, in `folder` (of its ledger spool, which it alone holds).
 */
export function openFollowedRecords(
  config: ResponsesConfig,
  counters: Pick<CounterSettings, 'url' | 'keyPrefix'>,
  shared: FollowedRecords | undefined,
  folder: string,
  logger: Logger,
): FollowedRecords {
  const { store, keyPrefix } = recordsHome(config, counters);
  if (store !== 'memory') return new RedisFollowedRecords(store, keyPrefix);
  return shared ?? new FileFollowedRecords(folder, logger);
}

export class StoredResponses {
  readonly records: ResponseRecords;
  private readonly ttlMs: number;
  private readonly logger: Logger;
  private readonly failures: Counter<'operation'>;
  readonly calls: Counter<'action' | 'status'>;
  /** A previous_response_id while the record cannot be read: sent on unchecked (open) or refused (closed). */
  private readonly failOpen: boolean;
  private lastUncheckedWarning = Number.NEGATIVE_INFINITY;

  /**
   * `counters`: the counters' backend, which the records follow when `responses.store` is not given (their Redis, under
   * their key prefix, so deployments that share a Redis keep apart as their counters do), and whose fail mode they
   * follow unless `responses.failMode` is given. `shared`: in a worker, the primary's record. `journal`: a lone
   * process's file for its record in memory (journaled.ts), in its ledger spool folder.
   */
  constructor(
    config: ResponsesConfig,
    counters: Pick<CounterSettings, 'url' | 'keyPrefix' | 'failMode'>,
    registry: Registry,
    logger: Logger,
    shared: ResponseRecords | undefined,
    journal: string,
  ) {
    const { store, keyPrefix } = recordsHome(config, counters);
    // In a worker of `sluice start --workers N`, a record in memory is the primary's, reached over IPC (src/cluster/).
    this.records =
      store !== 'memory'
        ? new RedisResponseRecords(store, keyPrefix)
        : (shared ?? new JournaledResponseRecords(journal, config.maxEntries, logger));
    this.ttlMs = config.ttlSeconds * 1000;
    this.failOpen = (config.failMode ?? counters.failMode) === 'open';
    this.logger = logger;
    this.failures = new Counter({
      name: 'sluice_response_records_failed_total',
      help: 'Writes and reads of the record of stored responses that failed (its Redis unreachable)',
      labelNames: ['operation'],
      registers: [registry],
    });
    this.calls = new Counter({
      name: 'sluice_stored_response_requests_total',
      help: 'Calls on stored responses (retrieve, delete, cancel, input_items), by the status answered',
      labelNames: ['action', 'status'],
      registers: [registry],
    });
  }

  /** Records who owns a response, once its answer has been sent; never awaited by the call, never failing it. */
  remember(id: string, owner: ResponseOwner): void {
    if (!isResponseId(id)) return;
    this.records.set(id, owner, this.ttlMs).catch((error: unknown) => {
      this.failures.labels('write').inc();
      this.logger.warn(
        { provider: owner.provider, err: (error as Error).message },
        'stored responses: the record of a response could not be written; calls on it will answer 404',
      );
    });
  }

  /**
   * Records again who owns the response of a background call adopted from its record (followed-records.ts): a lone
   * process's record of stored responses, in its memory, died with it, and the client polls on through its next start.
   */
  rememberFollowed(record: FollowedRecord): void {
    if (record.row.consumer === null) return;
    this.remember(record.id, { consumer: record.row.consumer, provider: record.provider, model: record.row.providerModel ?? '' });
  }

  /** The owner of a response id, or null; throws response_records_unavailable when the record cannot be read. */
  async owner(id: string): Promise<ResponseOwner | null> {
    if (!isResponseId(id)) return null;
    try {
      return await this.records.get(id);
    } catch (error) {
      this.failures.labels('read').inc();
      this.logger.warn({ err: (error as Error).message }, 'stored responses: the record could not be read');
      throw new SluiceError('response_records_unavailable', 'The record of stored responses cannot be read now; retry later.');
    }
  }

  /**
   * Refuses a `previous_response_id` recorded for another consumer: the provider would continue from that consumer's
   * conversation (the same upstream account holds both). An id not recorded passes (made before the record, dropped
   * past the memory cap, or directly at the provider: the provider decides). While the record cannot be read (counted),
   * the fail mode decides (logged at most once per 10 s): open sends the call on unchecked, closed refuses it with
   * response_records_unavailable. Answers the owner of this consumer's response (null: not recorded, or unchecked):
   * the call goes to the provider that keeps it.
   */
  async checkPrevious(consumer: string, id: string): Promise<ResponseOwner | null> {
    let owner: ResponseOwner | null;
    try {
      owner = isResponseId(id) ? await this.records.get(id) : null;
    } catch (error) {
      this.failures.labels('read').inc();
      // Each failure is counted; the log says so at most once per 10 s, not once per call, as the counters' does.
      const now = Date.now();
      if (now - this.lastUncheckedWarning >= UNCHECKED_WARNING_INTERVAL_MS) {
        this.lastUncheckedWarning = now;
        this.logger.warn(
          { err: (error as Error).message },
          this.failOpen
            ? 'stored responses: previous_response_id not checked, the record could not be read (fail-open)'
            : 'stored responses: previous_response_id refused, the record could not be read (fail-closed)',
        );
      }
      if (!this.failOpen)
        throw new SluiceError(
          'response_records_unavailable',
          'The record of stored responses cannot be read now, so previous_response_id cannot be checked; retry later.',
          { param: 'previous_response_id' },
        );
      return null;
    }
    if (owner !== null && owner.consumer !== consumer)
      throw new SluiceError('previous_response_not_found', `Previous response with id '${id}' not found.`, {
        param: 'previous_response_id',
      });
    return owner;
  }

  /** Forgets a response the provider deleted; a failure leaves the record to expire (the provider answers 404 for it). */
  forget(id: string): void {
    this.records.delete(id).catch((error: unknown) => {
      this.failures.labels('delete').inc();
      this.logger.warn({ err: (error as Error).message }, 'stored responses: the record of a deleted response could not be removed');
    });
  }

  close(): Promise<void> {
    return this.records.close();
  }
}
