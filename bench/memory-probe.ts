// Loaded into a benchmark's target with --import: answers the bench's IPC question "bench:memory" with
// process.memoryUsage(), so heap figures can be printed beside the RSS read from /proc. Nothing else.
process.on('message', (message: unknown) => {
  if (message === 'bench:memory') process.send?.({ benchMemory: process.memoryUsage() });
});
