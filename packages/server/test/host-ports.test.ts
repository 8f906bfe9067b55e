import { describe, expect, it } from 'vitest';
import { HOST_PORT_RANGE } from '../src/domain/deployments/render.ts';

/*
 * A workload's host port is allocated once and kept. One inside the ephemeral range the kernel picks the
 * local ports of outgoing connections (and of listen(0)) from can be taken by any process meanwhile, and the
 * workload then fails with EADDRINUSE: a test run saw exactly that (port 38718).
 */
describe('host ports', () => {
  it("are allocated below Linux's default ephemeral port range (32768–60999)", () => {
    expect(HOST_PORT_RANGE.from).toBeGreaterThanOrEqual(1024);
    expect(HOST_PORT_RANGE.to).toBeLessThan(32_768);
  });
});
