// Enforce mode: the sanctioned-model policy applied to discovered traffic. Statuses come from sluice.yaml's `resources`
// and, when a director is configured, from its resource list (read back periodically); the action per status is the
// configured `resourcePolicy`. A refused call is answered in the provider's own error shape, and never reaches it.
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Logger } from 'pino';
import type { WireFormat } from '../config/discovery-schema.js';
import type { ResourceStatus } from '../config/governance-schema.js';
import type { SluiceConfig } from '../config/schema.js';
import { resourcePolicy } from '../policy/resources.js';

export class DiscoveryPolicy {
  private readonly config: Pick<SluiceConfig, 'resources' | 'resourcePolicy'>;
  private directorStatuses: Record<string, ResourceStatus>;

  constructor(config: Pick<SluiceConfig, 'resources' | 'resourcePolicy'>) {
    this.config = config;
    this.directorStatuses = {};
  }

  /** Whether a call to provider/model is refused. */
  refuses(provider: string, model: string): boolean {
    const resources = { ...this.config.resources, ...this.directorStatuses };
    return resourcePolicy({ resources, resourcePolicy: this.config.resourcePolicy }, provider, model).action === 'enforce';
  }

  /** Reads the director's resource statuses (GET /api/resources); on failure the last ones read stay in force. */
  async refresh(url: string, token: string, log: Logger): Promise<void> {
    try {
      const response = await fetch(new URL('/api/resources', url), {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const body = (await response.json()) as { items: Array<{ id: string; status: ResourceStatus }> };
      this.directorStatuses = Object.fromEntries(body.items.map((item) => [item.id, item.status]));
    } catch (error) {
      log.warn(
        { err: (error as Error).message },
        'discovery: resource statuses cannot be read from the director; the last ones read stay in force',
      );
    }
  }
}

/** The body and headers of a 403 in the provider's own error shape: what its SDK turns into a permission error. */
export function refusal(wire: WireFormat, provider: string, model: string): { headers: Record<string, string>; text: string } {
  const message = `The model ${provider}/${model} is not sanctioned by your organisation's AI policy (Sluice discovery).`;
  let body: unknown;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (wire) {
    case 'anthropic':
      body = { type: 'error', error: { type: 'permission_error', message } };
      break;
    case 'gemini':
      body = { error: { code: 403, message, status: 'PERMISSION_DENIED' } };
      break;
    case 'bedrock':
      body = { message };
      headers['x-amzn-errortype'] = 'AccessDeniedException';
      break;
    case 'cohere':
      body = { message };
      break;
    default:
      body = { error: { message, type: 'invalid_request_error', param: 'model', code: 'model_not_sanctioned' } };
  }
  const text = JSON.stringify(body);
  headers['content-length'] = String(Buffer.byteLength(text));
  return { headers, text };
}

/** Answers a call with the provider's own 403. */
export function refuse(res: ServerResponse | Http2ServerResponse, wire: WireFormat, provider: string, model: string): void {
  const { headers, text } = refusal(wire, provider, model);
  res.writeHead(403, headers);
  res.end(text);
}
