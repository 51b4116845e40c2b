// The data-plane listener: node:http, a request id per call, and a fixed front-door routing table.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../errors.js';
import { answerHealth } from '../observability/readiness.js';
import type { GatewayContext } from './context.js';
import { anthropicFrontDoor } from './frontdoors/anthropic-messages.js';
import type { FrontDoor } from './frontdoors/frontdoor.js';
import { openaiChatFrontDoor } from './frontdoors/openai-chat.js';
import { handleChat } from './handlers/chat.js';
import { handleEmbeddings } from './handlers/embeddings.js';
import { handleModels } from './handlers/models.js';
import { Call } from './pipeline/call.js';
import { refuseWhileDraining } from './pipeline/refuse-draining.js';
import { sendError } from './respond.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A POST endpoint's pipeline; module-level functions, so routing a call allocates no closure. */
type Handler = (context: GatewayContext, door: FrontDoor, call: Call, req: IncomingMessage, res: ServerResponse) => Promise<void>;
const embeddings: Handler = (context, _door, call, req, res) => handleEmbeddings(context, call, req, res);

export class GatewayServer {
  readonly server: Server;
  private readonly context: GatewayContext;
  /** Calls between routing and their ledger record; a count, not a set of promises: no allocation per call. */
  private inFlight: number;
  private readonly idleWaiters: Array<() => void>;
  private readonly callDone: () => void;
  private draining: boolean;

  constructor(context: GatewayContext) {
    this.context = context;
    this.inFlight = 0;
    this.idleWaiters = [];
    this.callDone = () => {
      if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    };
    this.draining = false;
    this.server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
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

  /** Stops taking connections and waits for calls in flight (each one's ledger record included). */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.race([this.settled(), new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    this.server.closeAllConnections();
    await closed;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (this.draining) res.setHeader('connection', 'close');
    this.route(req, res, requestId);
  }

  private route(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    switch (path) {
      case '/v1/chat/completions':
        return this.post(req, res, requestId, openaiChatFrontDoor, 'chat', handleChat);
      case '/v1/messages':
        return this.post(req, res, requestId, anthropicFrontDoor, 'chat', handleChat);
      case '/v1/embeddings':
        return this.post(req, res, requestId, openaiChatFrontDoor, 'embeddings', embeddings);
      case '/healthz':
      case '/readyz':
        return answerHealth(req, res, path, this.context.readiness);
    }
    const door = req.headers['anthropic-version'] !== undefined ? anthropicFrontDoor : openaiChatFrontDoor;
    const call = new Call(requestId, door.dialect, 'chat');
    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (req.method !== 'GET') sendError(res, door, call, new SluiceError('method_not_allowed', `${req.method} is not allowed on ${path}; use GET.`));
      else handleModels(this.context, door, call, req, res, path === '/v1/models' ? null : decodeURIComponent(path.slice('/v1/models/'.length)));
      return;
    }
    sendError(res, door, call, new SluiceError('route_not_found', `No endpoint ${req.method} ${path}.`));
  }

  private post(
    req: IncomingMessage, res: ServerResponse, requestId: string, door: FrontDoor, operation: Call['operation'], handle: Handler,
  ): void {
    const call = new Call(requestId, door.dialect, operation);
    if (req.method !== 'POST') {
      sendError(res, door, call, new SluiceError('method_not_allowed', `${req.method} is not allowed here; use POST.`));
      return;
    }
    if (this.draining) {
      refuseWhileDraining(this.context, door, call, req, res);
      return;
    }
    call.watchClient(req, res);
    this.inFlight++;
    handle(this.context, door, call, req, res).then(this.callDone, (error: unknown) => {
      this.context.logger.error({ requestId, err: (error as Error).message }, 'unhandled error in the request pipeline');
      sendError(res, door, call, error);
      this.callDone();
    });
  }
}
