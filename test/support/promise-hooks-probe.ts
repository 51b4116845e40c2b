// Loaded into a `sluice` process with --import: on SIGUSR2 it writes to stderr whether promise hooks are on. With none
// on (no async hook, no enabled AsyncLocalStorage), a promise's continuation runs with executionAsyncId() 0; once
// anything turns them on, every promise gets an id, and every call the gateway serves pays for it.
import { executionAsyncId } from 'node:async_hooks';

async function idAfterAwait(): Promise<number> {
  await null;
  return executionAsyncId();
}

process.on('SIGUSR2', () => {
  void idAfterAwait().then((id) => process.stderr.write(`promise-hooks: ${id === 0 ? 'off' : 'on'}\n`));
});
