/** The child side of the benchmark's IPC (load-generator-pool.ts's IpcChild is the parent's): one answer per request, by id. */
export function serveIpcRequests<Request extends { id: number }>(name: string, handle: (request: Request) => Promise<unknown>): void {
  if (!process.send) {
    console.error(`${name} is started by the benchmark (it needs an IPC channel)`);
    process.exit(64);
  }
  process.on('message', (request: Request) => {
    handle(request).then(
      (result) => process.send?.({ id: request.id, result }),
      (error: Error) => process.send?.({ id: request.id, error: error.message }),
    );
  });
  // The parent going away (even killed) closes the IPC channel: leave with it.
  process.on('disconnect', () => process.exit(0));
}
