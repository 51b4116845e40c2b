// One MCP tools/call as the ledger records it: server, tool, consumer, latency and outcome. Never its arguments or result.
import type { Transaction } from '../../ledger/transaction.js';
import type { Consumer } from '../../policy/consumers.js';
import type { RecordSinks } from '../pipeline/record.js';
import { MCP_RESOURCE_PREFIX, type McpServer } from './directory.js';
import type { CallTask } from './pending-tasks.js';

export class ToolCall {
  readonly requestId: string;
  readonly startedAt: number;
  readonly startedHr: bigint;
  readonly consumer: Consumer;
  readonly server: McpServer;
  readonly tool: string;
  stream: boolean;
  /** What the governance outcome was: 200 answered, 403 refused by Sluice, the upstream's status when it failed, 499 gone. */
  status: number;
  errorClass: string | null;
  attempts: number;
  /** What the consumer was authenticated by (key id, certificate, JWT subject); never a secret. */
  identity: string | null;
  /** Its JSON-RPC answer has been read. */
  answered: boolean;
  /** The task the server answered the call with (MCP tasks): its outcome comes later (pending-tasks.ts). */
  task: CallTask | null;
  private recorded: boolean;

  /** `startedAt`: a call begun by another gateway process (resumed-calls.ts), its duration counted from then. */
  constructor(requestId: string, consumer: Consumer, server: McpServer, tool: string, startedAt?: number) {
    this.requestId = requestId;
    const now = Date.now();
    this.startedAt = startedAt ?? now;
    this.startedHr = process.hrtime.bigint() - BigInt(Math.max(0, now - this.startedAt)) * 1_000_000n;
    this.consumer = consumer;
    this.server = server;
    this.tool = tool;
    this.stream = false;
    this.status = 200;
    this.errorClass = null;
    this.attempts = 0;
    this.identity = null;
    this.answered = false;
    this.task = null;
    this.recorded = false;
  }

  /** Reads the JSON-RPC answer to the call: an error, or a result the tool marked isError. */
  observeAnswer(message: Record<string, unknown>): void {
    this.answered = true;
    if (message.error !== undefined) this.errorClass = 'mcp_error';
    else if (typeof message.result === 'object' && message.result !== null && (message.result as { isError?: unknown }).isError === true) {
      this.errorClass = 'mcp_tool_error';
    }
  }

  fail(status: number, errorClass: string): void {
    this.status = status;
    if (this.errorClass === null || errorClass === 'client_disconnected') this.errorClass = errorClass;
  }

  /** Queues the ledger record once (no database write on the request path). */
  record(sinks: RecordSinks): void {
    if (this.recorded) return;
    this.recorded = true;
    let violations: string | null = null;
    const resource = this.server.resource;
    if (resource.action === 'monitor') {
      violations = `resource:${resource.id}`;
      sinks.governance.violation(violations, 'resource', this.requestId, this.consumer.name);
    }
    const transaction: Transaction = {
      requestId: this.requestId,
      startedAt: this.startedAt,
      operation: 'mcp_tool_call',
      api: 'mcp',
      consumer: this.consumer.name,
      team: this.consumer.team,
      requestedModel: this.tool,
      provider: `${MCP_RESOURCE_PREFIX}:${this.server.name}`,
      providerModel: this.tool,
      stream: this.stream,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      tokensEstimated: false,
      // A tool call costs nothing at a model provider; whatever the server charges is not known here.
      costMicroUsd: 0,
      latencyMs: Number(process.hrtime.bigint() - this.startedHr) / 1e6,
      timeToFirstTokenMs: null,
      status: this.status,
      errorClass: this.errorClass,
      attempts: this.attempts,
      servedModel: null,
      violations,
      identity: this.identity,
    };
    sinks.ledger.append(transaction);
    sinks.metrics.observe(transaction);
  }
}
