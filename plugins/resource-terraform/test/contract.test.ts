import { afterAll } from 'vitest';
import { describeResourceDriverContract } from '@pave/plugin-api/testing';
import { TerraformDriver } from '../src/index.ts';
import { databaseExists, postgresInputs, removeLeftovers } from './support/fixtures.ts';
import { TestStateServer, withStateBackend } from './support/state-server.ts';

const server = await TestStateServer.start();
const used: string[] = [];
afterAll(() => {
  for (const name of used) removeLeftovers(name);
});

/** Inputs of the postgres test module for a new scope and database, removed after the suite. */
function inputs(variables: Record<string, unknown> = {}) {
  const made = postgresInputs({ variables });
  used.push(made.name);
  return made;
}

const failing = inputs({ fail: true });

describeResourceDriverContract('terraform', {
  // The suite's context has no state store; the control plane gives every call one, and so does this.
  driver: () => withStateBackend(TerraformDriver.fromConfig({ killGraceMs: 5_000 }), server),
  validInputs: () => inputs(),
  invalidInputs: { inputs: inputs({ size: '${resource.params.size}' }), property: 'variables.size' },
  exists: async (_id, outputs) => databaseExists(outputs.values.name!),
  failingCreate: { inputs: failing, exists: async () => databaseExists(failing.name) },
  cleanup: () => server.stop(),
});
