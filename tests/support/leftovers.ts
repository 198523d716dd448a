// What a test file starts and must stop: registered here, stopped by the test environment's teardown
// (tests/support/environment.js) if the file's own teardown did not get to it.
type Stop = () => Promise<unknown>;

const registry = (): Set<Stop> =>
  ((globalThis as { __gatehouseLeftovers?: Set<Stop> }).__gatehouseLeftovers ??= new Set<Stop>());

/** Registers a stop function; call the returned function once it has been stopped the normal way. */
export function stopAtTeardown(stop: Stop): () => void {
  registry().add(stop);
  return () => { registry().delete(stop); };
}
