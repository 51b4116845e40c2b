// Skips a target that keeps failing for a cool-down, then lets one trial request through (half-open).

export class CircuitBreaker {
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private consecutiveFailures: number;
  private openUntil: number;
  private trialInFlight: boolean;

  constructor(threshold: number, cooldownMs: number) {
    this.threshold = threshold;
    this.cooldownMs = cooldownMs;
    this.consecutiveFailures = 0;
    this.openUntil = 0;
    this.trialInFlight = false;
  }

  /** Whether a request may go to this target now; after the cool-down exactly one trial is let through. */
  allow(now: number): boolean {
    if (this.consecutiveFailures < this.threshold) return true;
    if (now < this.openUntil || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.trialInFlight = false;
  }

  failure(now: number): void {
    this.consecutiveFailures++;
    this.trialInFlight = false;
    if (this.consecutiveFailures >= this.threshold) this.openUntil = now + this.cooldownMs;
  }
}
