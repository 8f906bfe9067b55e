import { environmentSecrets } from '../../logs.ts';
import { maskSecrets } from '../../resources/masking.ts';
import type { SetRun } from './phase.ts';

const given = new WeakMap<SetRun, Promise<string[]>>();

/**
 * The secrets run gives its workloads, and every secret the environment's workloads were given before (the
 * secret values of every values version, its resources' secret outputs now and before they were replaced):
 * what a runtime says about the containers of an earlier set (switching targets, rolling back) may quote an
 * older one. Read (and decrypted) once per run, when something is first masked: after the provision phase,
 * so the outputs are the ones the workloads get.
 */
export function secretsGiven(run: SetRun): Promise<string[]> {
  let secrets = given.get(run);
  if (!secrets) {
    secrets = readSecrets(run);
    given.set(run, secrets);
  }
  return secrets;
}

/**
 * The secrets of the run's environment as they are now, read afresh and not kept: for a phase before
 * provisioning, whose resources may add secrets that secretsGiven must then hold.
 */
export function secretsKnownNow(run: SetRun): Promise<string[]> {
  return readSecrets(run);
}

/** `text` with every secret run gives its workloads replaced by `***` (see maskSecrets). */
export async function maskGiven(run: SetRun, text: string): Promise<string> {
  return maskSecrets(text, await secretsGiven(run));
}

async function readSecrets(run: SetRun): Promise<string[]> {
  // The pinned values version is one of the environment's, and its resources' outputs are read now: all in.
  return environmentSecrets(run.deps.box, run.deps.store.db, run.target);
}
