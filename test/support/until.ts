// Waiting for what follows an answer (a batch committed, a webhook delivered, a worker replaced, a page rendered): polled
// against a deadline far beyond what a slow machine needs, so a test fails on what it checks, never on the machine's pace.

/** Resolves once `check` holds; throws naming `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
