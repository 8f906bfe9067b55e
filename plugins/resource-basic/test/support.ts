import { readFileSync, rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import type { DriverContext, ResourceInputs, ResourceScope } from '@pave/plugin-api';
import { testDriverContext } from '@pave/plugin-api/testing';

let counter = 0;

/** A test driver context whose scratch directory is removed after the file's tests. */
export function driverContext(signal?: AbortSignal): DriverContext {
  const ctx = testDriverContext(signal);
  afterAll(() => rmSync(ctx.scratchDir, { recursive: true, force: true }));
  return ctx;
}

/** Inputs for a fresh scope (a new app per call, so runs and tests never share a resource). */
export function inputsFor(
  type: string,
  overrides: Partial<Omit<ResourceInputs, 'scope'>> & { scope?: Partial<ResourceScope> } = {},
): ResourceInputs {
  counter += 1;
  const { scope, ...rest } = overrides;
  return {
    scope: {
      app: `app-${process.pid}-${counter}`,
      env: 'dev',
      envType: 'development',
      type,
      class: 'default',
      resId: `api.${type}`,
      address: `api.${type}`,
      ...scope,
    },
    driverInputs: {},
    driverSecrets: {},
    params: {},
    ...rest,
  };
}

/** Whether process `pid` is still running (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits until `condition` holds, polling every 50 ms, for at most `ms`; returns whether it held. */
export async function eventually(condition: () => boolean, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}
