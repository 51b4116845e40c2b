// The state of one call as it moves through the pipeline stages; every field is set in the constructor. The handlers
// write it, from what each stage returns; the stages only read it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatRequest } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import { emptyUsage, ledgerReasoningTokens, type Usage } from '../../ir/usage.js';
import type { Transaction } from '../../ledger/transaction.js';
import { microFromNano } from '../../metering/cost.js';
import type { Consumer } from '../../policy/consumers.js';
import type { Dialect } from '../../wire/exchange.js';
import type { OutputEstimate } from '../../wire/output-sample.js';
import type { ErrorSent } from '../respond.js';
import type { Target } from '../routing/model-routes.js';
import type { Reservation } from './admit.js';
import { Cancellation } from './cancellation.js';
import type { Metered } from './meter.js';

export class Call {
  readonly requestId: string;
  readonly startedAt: number;
  readonly startedHr: bigint;
  readonly api: Dialect;
  readonly operation: Transaction['operation'];
  readonly cancellation: Cancellation;
  consumer: Consumer | null;
  /** The credential the consumer was authenticated by (`key:<id>`, `mtls:spiffe://...`, `jwt:<iss>#<sub>`), never a secret. */
  identity: string | null;
  requestedModel: string | null;
  chat: ChatRequest | null;
  embeddings: EmbeddingsRequest | null;
  stream: boolean;
  target: Target | null;
  attempts: number;
  failures: string[];
  usage: Usage;
  /** What the model produced, read only when usage must be estimated. */
  output: (() => OutputEstimate) | null;
  firstTokenHr: bigint | null;
  status: number;
  errorClass: string | null;
  /** What admission reserved against budgets; settled (or given back) when the call is done. */
  reservation: Reservation | null;
  /** The Sluice model that serves the call when a budget downgraded it. */
  servedModel: string | null;
  /** Policies broken in monitor mode. */
  violations: string[] | null;

  constructor(requestId: string, api: Call['api'], operation: Call['operation']) {
    this.requestId = requestId;
    this.startedAt = Date.now();
    this.startedHr = process.hrtime.bigint();
    this.api = api;
    this.operation = operation;
    this.cancellation = new Cancellation();
    this.consumer = null;
    this.identity = null;
    this.requestedModel = null;
    this.chat = null;
    this.embeddings = null;
    this.stream = false;
    this.target = null;
    this.attempts = 0;
    this.failures = [];
    this.usage = emptyUsage();
    this.output = null;
    this.firstTokenHr = null;
    this.status = 200;
    this.errorClass = null;
    this.reservation = null;
    this.servedModel = null;
    this.violations = null;
  }

  /**
   * Aborts the upstream call when the client goes away before the response is complete, or the gateway's stop closes
   * the connection (`cutByStop` says which).
   */
  watchClient(req: IncomingMessage, res: ServerResponse, cutByStop: () => boolean): void {
    // on(), not once(): each event comes at most once in a request's life (and a cancellation a second time does
    // nothing), while once() wraps each listener in a state object and a bound function, taken off again when it fires.
    res.on('close', () => {
      if (!res.writableFinished) {
        if (this.errorClass === null) this.errorClass = cutByStop() ? 'cut_by_stop' : 'client_disconnected';
        if (this.status < 400) this.status = 499;
        this.cancellation.cancel(new Error('client disconnected'));
      }
    });
    req.on('error', () => this.cancellation.cancel(new Error('client request failed')));
  }

  /** A failure as it was sent to the client (null: the client had gone, or had its whole answer already). */
  failed(sent: ErrorSent | null): void {
    if (sent === null) return;
    if (this.errorClass === null) this.errorClass = sent.code;
    if (sent.status !== null) this.status = sent.status;
  }

  toTransaction(metered: Metered, violations: readonly string[] | null): Transaction {
    const usage = metered.usage;
    const now = process.hrtime.bigint();
    return {
      requestId: this.requestId,
      startedAt: this.startedAt,
      operation: this.operation,
      api: this.api,
      consumer: this.consumer?.name ?? null,
      team: this.consumer?.team ?? null,
      requestedModel: this.requestedModel,
      provider: this.target?.provider.name ?? null,
      providerModel: this.target?.model ?? null,
      stream: this.stream,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cachedInputTokens: usage.cachedInputTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      cacheWrite1hTokens: usage.cacheWrite1hTokens ?? 0,
      reasoningTokens: ledgerReasoningTokens(usage),
      webSearches: usage.webSearches ?? 0,
      fileSearches: usage.fileSearches ?? 0,
      serviceTier: usage.serviceTier ?? null,
      tokensEstimated: !usage.reported && (usage.inputTokens > 0 || usage.outputTokens > 0),
      costMicroUsd: metered.cost === null ? null : microFromNano(metered.cost),
      costNanoUsd: metered.cost,
      latencyMs: Number(now - this.startedHr) / 1e6,
      timeToFirstTokenMs: this.firstTokenHr === null ? null : Number(this.firstTokenHr - this.startedHr) / 1e6,
      status: this.status,
      errorClass: this.errorClass,
      attempts: this.attempts,
      servedModel: this.servedModel,
      violations: violations === null ? null : violations.join(','),
      identity: this.identity,
    };
  }
}
