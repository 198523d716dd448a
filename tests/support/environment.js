// The test environment: Node's, plus a teardown that stops whatever a test file left running — a
// server process or a browser whose suite failed halfway through its beforeAll never reaches the
// afterAll that would have stopped it, and would keep the whole run from exiting. It runs after
// every hook of the file, so a suite's own teardown always goes first.
import { TestEnvironment } from 'jest-environment-node';

export default class GatehouseEnvironment extends TestEnvironment {
  async setup() {
    await super.setup();
    /** stop functions registered by tests/support (server.ts, browser.ts) */
    this.global.__gatehouseLeftovers = new Set();
  }

  async teardown() {
    const leftovers = [...(this.global.__gatehouseLeftovers ?? [])];
    await Promise.all(leftovers.map((stop) => Promise.resolve().then(stop).catch(() => {})));
    await super.teardown();
  }
}
