// Cancels a call's upstream work when its client goes away. A plain list of listeners: an AbortController per request
// showed up at several percent of the gateway's CPU, and undici, driven through its dispatcher API, needs no signal of
// its own (the list holds the attempt in flight, or the backoff before the next).
export class Cancellation {
  aborted: boolean;
  reason: Error | undefined;
  private listeners: Array<() => void>;

  constructor() {
    this.aborted = false;
    this.reason = undefined;
    this.listeners = [];
  }

  cancel(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  /** Calls `listener` once, when the call is cancelled; not if it already was. */
  onCancel(listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  off(listener: () => void): void {
    const at = this.listeners.indexOf(listener);
    if (at !== -1) this.listeners.splice(at, 1);
  }
}
