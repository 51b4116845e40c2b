// `sluice demo`'s live traffic: the demo's consumers calling the gateway with their keys (JSON and streamed chat,
// embeddings, Anthropic's Messages API with a cached system prompt) every second or two, and the discovery proxy
// reporting the undeclared callers it keeps seeing.
import type { Profile } from './scenario.js';
import { DEMO_CONSUMERS, observedCost, seededRandom, UNDECLARED_CALLERS } from './scenario.js';

export interface TrafficOptions {
  gatewayURL: string;
  adminURL: string;
  adminToken: string;
  /** Consumer name -> its Sluice key. */
  keys: ReadonlyMap<string, string>;
  intervalMs?: number;
  onError?: (error: Error) => void;
}

const PROMPTS = [
  'Summarise this support ticket in two sentences.',
  'Classify the sentiment of this review.',
  'Draft a polite reminder for an overdue invoice.',
  'Extract the order number and the delivery address.',
  'Suggest three related products for this basket.',
  'Explain this SQL query plan.',
];

/**
 * The helpdesk's system prompt: its support manual, long enough for Anthropic's prompt cache (1,024 tokens at least),
 * marked with `cache_control` so that each call after the first reads it from the cache.
 */
const HELPDESK_MANUAL = [
  'You answer customers of the Example Store on behalf of its support team.',
  'Refunds: goods may be returned within 30 days of delivery, unused and in their packaging; refunds go to the original payment method within 5 working days of the return arriving.',
  'Deliveries: standard delivery takes 2 to 4 working days, express the next working day when ordered before 14:00; a parcel not delivered within 10 working days is replaced or refunded.',
  'Accounts: never ask for a password or a full card number; to change an address, the customer signs in and edits it under Settings, Addresses.',
  'Escalation: a complaint about a damaged item, a missing refund after 10 working days or a safety concern goes to a human agent with the order number.',
  'Tone: short sentences, no jargon, the customer named once, one apology at most, and the next step always stated.',
]
  .join('\n')
  .repeat(8);

async function callMessages(options: TrafficOptions, key: string, model: string, profile: Profile, random: () => number): Promise<void> {
  const response = await fetch(`${options.gatewayURL}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': key,
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      'user-agent': `${profile.name}/1.0`,
    },
    body: JSON.stringify({
      model,
      max_tokens: 300,
      stream: random() < profile.streamShare,
      system: [{ type: 'text', text: HELPDESK_MANUAL, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: PROMPTS[Math.floor(random() * PROMPTS.length)]! }],
    }),
  });
  await response.arrayBuffer();
}

async function call(options: TrafficOptions, profile: Profile, random: () => number): Promise<void> {
  const key = options.keys.get(profile.name);
  if (key === undefined) return;
  const models = Object.keys(profile.models);
  const model = models[Math.floor(random() * models.length)]!;
  if (profile.api === 'anthropic') return callMessages(options, key, model, profile, random);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'user-agent': `${profile.name}/1.0` };
  if (profile.team === 'search' && random() < 0.25) {
    const response = await fetch(`${options.gatewayURL}/v1/embeddings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'text-embedding-3-small', input: PROMPTS[Math.floor(random() * PROMPTS.length)] }),
    });
    await response.arrayBuffer();
    return;
  }
  const stream = random() < profile.streamShare;
  const body = {
    model,
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
    max_tokens: 300,
    messages: [
      { role: 'system', content: `You help the ${profile.team} team.` },
      { role: 'user', content: PROMPTS[Math.floor(random() * PROMPTS.length)]!.repeat(1 + Math.floor(random() * 6)) },
    ],
  };
  const response = await fetch(`${options.gatewayURL}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
  // Streams are read to their end, as a client would; refusals (an exhausted budget) are part of the demo.
  await response.arrayBuffer();
}

async function observe(options: TrafficOptions, random: () => number): Promise<void> {
  const caller = UNDECLARED_CALLERS[Math.floor(random() * UNDECLARED_CALLERS.length)]!;
  const calls = 1 + Math.floor(random() * 4);
  const response = await fetch(`${options.adminURL}/api/reconciliation/observations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      observations: [
        {
          observer: 'demo-discovery-proxy',
          at: Date.now(),
          source: caller.source,
          provider: caller.provider,
          model: caller.model,
          calls,
          inputTokens: calls * caller.input,
          outputTokens: calls * caller.output,
          // Priced as the discovery proxy prices what it sees; the history's observations are too.
          ...observedCost(caller, calls * caller.input, calls * caller.output),
        },
      ],
    }),
  });
  await response.arrayBuffer();
}

/** Starts the traffic; the function it returns stops it and waits for the calls in flight. */
export function startTraffic(options: TrafficOptions): () => Promise<void> {
  const random = seededRandom(Date.now() % 100_000);
  const inFlight = new Set<Promise<void>>();
  const weights = DEMO_CONSUMERS.map((profile) => profile.peakPerHour);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let ticks = 0;
  const track = (work: Promise<void>) => {
    const tracked = work.catch((error: Error) => options.onError?.(error)).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const timer = setInterval(() => {
    ticks++;
    let roll = random() * total;
    const profile = DEMO_CONSUMERS.find((_profile, index) => (roll -= weights[index]!) <= 0) ?? DEMO_CONSUMERS[0]!;
    track(call(options, profile, random));
    if (ticks % 20 === 0) track(observe(options, random));
  }, options.intervalMs ?? 1_500);
  return async () => {
    clearInterval(timer);
    await Promise.allSettled([...inFlight]);
  };
}
