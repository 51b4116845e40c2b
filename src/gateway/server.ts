// The data-plane listener: node:http, a request id per call, and a fixed front-door routing table.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import type { SluiceConfig } from '../config/schema.js';
import { SluiceError } from '../errors.js';
import type { ListenerTls } from '../identity/tls.js';
import { countWithoutWaiting } from '../metering/tokenizer.js';
import { answerHealth } from '../observability/readiness.js';
import type { GatewayContext } from './context.js';
import { anthropicFrontDoor } from './frontdoors/anthropic-messages.js';
import type { FrontDoor } from './frontdoors/frontdoor.js';
import { openaiChatFrontDoor } from './frontdoors/openai-chat.js';
import { openaiResponsesFrontDoor } from './frontdoors/openai-responses.js';
import { handleChat } from './handlers/chat.js';
import { handleCountTokens } from './handlers/count-tokens.js';
import { handleEmbeddings } from './handlers/embeddings.js';
import { handleModels } from './handlers/models.js';
import { handleStoredResponse } from './handlers/stored-responses.js';
import { Call } from './pipeline/call.js';
import { refuseWhileDraining } from './handlers/refuse-draining.js';
import { GatewayResponse, sendError } from './respond.js';
import { handleMcp } from './mcp/handler.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Where the calls on a stored response begin: /v1/responses/{id}[/cancel|/input_items]. */
const STORED_RESPONSES = '/v1/responses/';

/** A 405 names the methods the endpoint takes (RFC 9110, 15.5.6), as /healthz and /readyz do. */
const ALLOW_POST = { allow: 'POST' };
const ALLOW_GET = { allow: 'GET' };

/** How long a drain waits for the records of the calls it cut (their upstream aborted, they end in milliseconds). */
const CUT_CALLS_GRACE_MS = 2_000;

/** What the listener allows its clients (sluice.yaml's gateway section). */
export type ListenerLimits = Pick<
  SluiceConfig['gateway'],
  'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections'
>;

/** A POST endpoint's pipeline; module-level functions, so routing a call allocates no closure. */
type Handler = (context: GatewayContext, door: FrontDoor, call: Call, req: IncomingMessage, res: ServerResponse) => Promise<void>;
const embeddings: Handler = (context, _door, call, req, res) => handleEmbeddings(context, call, req, res);
const countTokens: Handler = (context, _door, call, req, res) => handleCountTokens(context, call, req, res);

export class GatewayServer {
  readonly server: Server | HttpsServer;
  private readonly context: GatewayContext;
  /** Calls between routing and their ledger record; a count, not a set of promises: no allocation per call. */
  private inFlight: number;
  private readonly idleWaiters: Array<() => void>;
  private readonly callDone: () => void;
  private draining: boolean;
  /** Set when the drain's time is up and the connections still open are closed on their calls. */
  private cutting: boolean;
  /** Whether a call's connection closing now is the drain cutting it, not its client leaving. */
  private readonly cutByStop: () => boolean;

  /** `tls`: HTTPS (and mTLS with a client CA) with its certificate files; plain HTTP when null. */
  constructor(context: GatewayContext, limits: ListenerLimits, tls: ListenerTls | null = null) {
    this.context = context;
    this.inFlight = 0;
    this.idleWaiters = [];
    this.callDone = () => {
      if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    };
    this.draining = false;
    this.cutting = false;
    this.cutByStop = () => this.cutting;
    // node:http's requestTimeout covers receiving the request only: a parser leaves the list of connections it checks
    // once its request is complete, so an answer (a stream of many minutes) is never cut by it.
    // The headers are part of the request: their limit is never the longer one (node refuses that).
    const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
    const options = {
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often those two are checked (node's default, 30 s, would let a 30 s limit run to a minute).
      connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(headersTimeout / 4))),
    };
    const listener = (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res as GatewayResponse);
    // Every response a GatewayResponse: it writes the request id with the head (src/gateway/respond.ts). Typed as node's
    // own class, whose generic constructor a subclass for one request type does not match.
    const withResponses = { ...options, ServerResponse: GatewayResponse as unknown as typeof ServerResponse };
    this.server = tls === null ? createServer(withResponses, listener) : tls.createServer(withResponses, listener);
    this.server.maxConnections = limits.maxConnections;
  }

  listen(port: number, host: string): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve({ port: typeof address === 'object' && address !== null ? address.port : port, host });
      });
    });
  }

  /** Resolves when every call in flight has finished, its ledger record queued. */
  settled(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Whether every call in flight finished (its record queued) within `ms`. */
  private settledWithin(ms: number): Promise<boolean> {
    return Promise.race([this.settled().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
  }

  /** Stops taking connections and waits for calls in flight (each one's ledger record included). */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.race([this.settled(), new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    this.cutting = true;
    this.server.closeAllConnections();
    // The calls cut there (streams longer than the drain) finish at once, their upstream aborted: what they used is
    // still recorded and settled before the ledger closes. Counting a cut stream's output waits for the tokenizer's
    // tables if no call loaded them before, which can outlast the grace on a busy machine: past it, those counts are
    // made roughly (the rows are estimates either way) rather than the rows lost.
    if (!(await this.settledWithin(CUT_CALLS_GRACE_MS))) {
      const done = countWithoutWaiting();
      await this.settledWithin(CUT_CALLS_GRACE_MS);
      done();
    }
    await closed;
  }

  private onRequest(req: IncomingMessage, res: GatewayResponse): void {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.requestId = requestId;
    if (this.draining) res.setHeader('connection', 'close');
    // Nothing a client sends may end the process: a throw in routing or a handler's start is this request's 500.
    try {
      this.route(req, res, requestId);
    } catch (error) {
      this.fault(req, res, requestId, error);
    }
  }

  /** A fault inside Sluice on one request: logged with its request id and stack, answered 500 in the route's shape. */
  private fault(req: IncomingMessage, res: ServerResponse, requestId: string, error: unknown): void {
    this.context.logger.error({ requestId, err: error }, 'unhandled error in the request pipeline');
    try {
      const door = errorDoor(req);
      sendError(res, door, error);
    } catch {
      // The answer cannot be written either: the connection is all that is left to end.
      res.destroy();
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    switch (path) {
      case '/v1/chat/completions':
        return this.post(req, res, requestId, openaiChatFrontDoor, 'chat', handleChat);
      case '/v1/responses':
        return this.post(req, res, requestId, openaiResponsesFrontDoor, 'chat', handleChat);
      case '/v1/messages':
        return this.post(req, res, requestId, anthropicFrontDoor, 'chat', handleChat);
      case '/v1/messages/count_tokens':
        return this.post(req, res, requestId, anthropicFrontDoor, 'chat', countTokens);
      case '/v1/embeddings':
        return this.post(req, res, requestId, openaiChatFrontDoor, 'embeddings', embeddings);
      case '/healthz':
      case '/readyz':
        return answerHealth(req, res, path, this.context.readiness);
    }
    if (path === '/mcp' || path.startsWith('/mcp/')) return this.mcp(req, res, requestId, path);
    if (path.startsWith(STORED_RESPONSES))
      return this.storedResponse(req, res, requestId, path.slice(STORED_RESPONSES.length), queryAt === -1 ? '' : url.slice(queryAt));
    const door = errorDoor(req);
    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (req.method !== 'GET')
        sendError(
          res,
          door,
          new SluiceError('method_not_allowed', `${req.method} is not allowed on ${path}; use GET.`, { headers: ALLOW_GET }),
        );
      else if (path === '/v1/models') handleModels(this.context, door, req, res, requestId, null);
      else {
        const id = modelId(path.slice('/v1/models/'.length));
        if (id === null)
          sendError(
            res,
            door,
            new SluiceError('invalid_request', 'The model id in the path is not valid percent-encoding.', { param: 'model' }),
          );
        else handleModels(this.context, door, req, res, requestId, id);
      }
      return;
    }
    sendError(res, door, new SluiceError('route_not_found', `No endpoint ${req.method} ${path}.`));
  }

  /** The MCP gateway (src/gateway/mcp/): counted in flight like a call, so a drain waits for its ledger record. */
  private mcp(req: IncomingMessage, res: ServerResponse, requestId: string, path: string): void {
    if (this.draining) res.setHeader('connection', 'close');
    // The handler reads the same snapshot: its MCP pools stay open until the request is done (a reload waits for it).
    const directory = this.context.snapshot.mcp;
    // A GET holds a stream open for server-initiated messages as long as the client wants: no call to wait for.
    this.serve(directory, req.method !== 'GET', req, res, requestId, () => handleMcp(this.context, req, res, path, requestId));
  }

  /**
   * The calls on a stored response (handlers/stored-responses.ts): counted in flight, and holding the routing table's
   * pools open, like a call, so a drain or a reload waits for the upstream call they make.
   */
  private storedResponse(req: IncomingMessage, res: ServerResponse, requestId: string, rest: string, query: string): void {
    if (this.draining) res.setHeader('connection', 'close');
    const routing = this.context.snapshot.routing;
    this.serve(routing, true, req, res, requestId, () => handleStoredResponse(this.context, req, res, requestId, rest, query));
  }

  private post(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    door: FrontDoor,
    operation: Call['operation'],
    handle: Handler,
  ): void {
    const call = new Call(requestId, door.dialect, operation);
    if (req.method !== 'POST') {
      sendError(res, door, new SluiceError('method_not_allowed', `${req.method} is not allowed here; use POST.`, { headers: ALLOW_POST }));
      return;
    }
    if (this.draining) {
      refuseWhileDraining(this.context, door, call, req, res);
      return;
    }
    // The handler reads the same snapshot, before its first await: its routing table's pools stay open until it is done.
    // Read before anything is counted: a throw here is this request's 500 (onRequest), with nothing left to undo.
    const routing = this.context.snapshot.routing;
    call.watchClient(req, res, this.cutByStop);
    this.serve(routing, true, req, res, requestId, () => handle(this.context, door, call, req, res));
  }

  /**
   * Runs a handler holding the pools it uses open until it is done (`pools`: the snapshot's routing table or MCP
   * directory; a reload waits for it), `counted` in flight for a drain to wait for; a handler that throws is the
   * request's fault.
   */
  private serve(
    pools: { enter(): void; leave(): void },
    counted: boolean,
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    run: () => Promise<void>,
  ): void {
    if (counted) this.inFlight++;
    const done = counted ? this.callDone : noop;
    pools.enter();
    run().then(
      () => {
        pools.leave();
        done();
      },
      (error: unknown) => {
        pools.leave();
        done();
        this.fault(req, res, requestId, error);
      },
    );
  }
}

function noop(): void {}

/** The API shape of a request's errors: its route's, or, off the front doors' routes, the one its headers suggest. */
function errorDoor(req: IncomingMessage): FrontDoor {
  const url = req.url ?? '';
  if (url.startsWith('/v1/messages')) return anthropicFrontDoor;
  if (url.startsWith('/v1/responses')) return openaiResponsesFrontDoor;
  if (url.startsWith('/v1/chat/') || url.startsWith('/v1/embeddings')) return openaiChatFrontDoor;
  return req.headers['anthropic-version'] !== undefined ? anthropicFrontDoor : openaiChatFrontDoor;
}

/** The `{id}` of /v1/models/{id}, percent-decoded; null when its encoding is malformed (`%`, `%E0%A4%A`). */
function modelId(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}
