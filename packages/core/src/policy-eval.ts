/*
 * Evaluates policies against a deployment: pure functions shared by the server (every deployment, rollback
 * and promotion, at plan time) and the CLI (`pave policies test`, offline). CEL rules run on
 * @marcbachmann/cel-js; recurring freezes use croner. Import this module on its own (`@pave/core/policy-eval`)
 * and only where policies are evaluated: it loads the CEL interpreter.
 */
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { Cron } from 'croner';
import {
  durationMs,
  type Policy,
  type PolicyCriterion,
  type PolicyFreeze,
  type PolicyScope,
  type PolicyVerdict,
} from './policies.ts';
import type { ScoreWorkload } from './score/schema.ts';

/** A resource of the set being deployed, as rules see it in `plan.resources`. */
export interface PolicyResource {
  /** `<workload>.<name>`, or `shared.<id>` for a shared resource. */
  address: string;
  type: string;
  /** What the deployment does to it: create, keep, update, replace or delete. */
  action: string;
  class: string;
  /** The Score `params` it is declared with ({} when none, or for a resource being deleted). */
  params: Record<string, unknown>;
}

/** A successful deployment of the set being deployed, for promotion gates. */
export interface SetSuccess {
  envId: string;
  envType: string;
  /** When it finished (RFC 3339). */
  finishedAt: string;
}

/** Everything policies are evaluated against. */
export interface PolicyInput {
  app: string;
  environment: { id: string; type: string };
  deployment: { kind: string; actor: string; allowDataLoss: boolean; prune: boolean };
  /** The Score specs of every workload of the set being deployed. */
  workloads: ScoreWorkload[];
  /**
   * What the deployment does to resources (the server's resource plan). Without it (offline), every resource
   * the workloads declare is listed with action `create`.
   */
  resources?: Array<{ address: string; type: string; action: string }>;
  /** The names of the environment's values (config and secrets); never their content. */
  valueKeys: string[];
  /** When the deployment is checked. */
  now: Date;
  /**
   * Where the set being deployed succeeded before, for promotion gates. Undefined (offline): gates are not
   * checked and pass with a note saying so.
   */
  setSuccesses?: SetSuccess[];
}

/** The deployment a policy's criteria are matched against. */
export interface PolicyTarget {
  appId: string;
  envId: string;
  envType: string;
}

/** Whether a policy applies to a deployment: no criteria, or one criterion whose every field matches. */
export function policyApplies(policy: Pick<Policy, 'criteria'>, target: PolicyTarget): boolean {
  const criteria = policy.criteria ?? [];
  return (
    criteria.length === 0 ||
    criteria.some((criterion: PolicyCriterion) =>
      (['envType', 'appId', 'envId'] as const).every(
        (field) => criterion[field] === undefined || criterion[field] === target[field],
      ),
    )
  );
}

/** A problem with a policy found before evaluating it: which field, where in it (CEL offset), what is wrong. */
export interface PolicyProblem {
  /** The field concerned, relative to the policy: `rule`, `freeze/schedule`, `freeze/timezone`, `freeze/to`. */
  field: string;
  /** For `rule`: the 0-based character offset in the expression the problem starts at. */
  offset?: number;
  message: string;
}

const STRING = 'string';

function celEnvironment(scope: PolicyScope): Environment {
  const environment = new Environment({ limits: { maxAstNodes: 2000, maxDepth: 64 } })
    .registerVariable('app', STRING, { description: 'The app deployed.' })
    .registerVariable({ name: 'environment', schema: { id: STRING, type: STRING } })
    .registerVariable({
      name: 'deployment',
      schema: { kind: STRING, actor: STRING, allowDataLoss: 'bool', prune: 'bool' },
    })
    .registerVariable('workloads', 'list<map>', { description: 'The Score specs of the set.' })
    .registerVariable({ name: 'plan', schema: { resources: 'list<map>' } })
    .registerVariable({ name: 'values', schema: { keys: 'list<string>' } });
  if (scope !== 'deployment') environment.registerVariable('workload', 'map');
  if (scope === 'container') environment.registerVariable('container', 'map');
  return environment;
}

const environments = new Map<PolicyScope, Environment>();

function environmentFor(scope: PolicyScope): Environment {
  let environment = environments.get(scope);
  if (!environment) {
    environment = celEnvironment(scope);
    environments.set(scope, environment);
  }
  return environment;
}

// Compiled rules by scope and text: a deployment evaluates the same few rules again and again.
const compiled = new Map<string, ParseResult>();
const COMPILED_CACHE_SIZE = 2000;

interface CelFailure {
  summary?: string;
  message: string;
  range?: { start: number };
}

function compileRule(rule: string, scope: PolicyScope): ParseResult {
  const key = `${scope}\n${rule}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const environment = environmentFor(scope);
  const checked = environment.check(rule);
  if (!checked.valid) throw checked.error ?? new Error('the rule does not type-check');
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw Object.assign(new Error(`the rule must be true or false, but it gives a ${checked.type}`), {
      range: { start: 0 },
    });
  }
  const parsed = environment.parse(rule);
  if (compiled.size >= COMPILED_CACHE_SIZE) compiled.clear();
  compiled.set(key, parsed);
  return parsed;
}

function scopeHint(rule: string, scope: PolicyScope): string {
  if (scope !== 'container' && /\bcontainer\b/u.test(rule))
    return '; rules about `container` need `each: container`';
  if (scope === 'deployment' && /\bworkload\b/u.test(rule))
    return '; rules about `workload` need `each: workload`';
  return '';
}

/**
 * Checks a policy without evaluating it: its CEL rule compiles and type-checks against the evaluation context
 * (unknown variables and unknown fields of `environment`, `deployment`, `plan`, `values` are refused), its
 * freeze schedule and time zone are valid, its freeze window ends after it starts. Empty: it is fine.
 */
export function checkPolicy(policy: Policy): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  if (policy.rule !== undefined) {
    const scope = policy.each ?? 'deployment';
    try {
      compileRule(policy.rule, scope);
    } catch (error) {
      const failure = error as CelFailure;
      problems.push({
        field: 'rule',
        offset: failure.range?.start ?? 0,
        message: `${failure.summary ?? failure.message}${scopeHint(policy.rule, scope)}`,
      });
    }
  }
  if (policy.freeze) problems.push(...checkFreeze(policy.freeze));
  return problems;
}

function checkFreeze(freeze: PolicyFreeze): PolicyProblem[] {
  if ('from' in freeze) {
    return Date.parse(freeze.to) > Date.parse(freeze.from)
      ? []
      : [{ field: 'freeze/to', message: 'the freeze must end after it starts' }];
  }
  const problems: PolicyProblem[] = [];
  if (freeze.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: freeze.timezone });
    } catch {
      problems.push({
        field: 'freeze/timezone',
        message: `"${freeze.timezone}" is not an IANA time zone, e.g. Europe/Berlin`,
      });
      return problems;
    }
  }
  const form = 'minute hour day-of-month month day-of-week, e.g. "0 16 * * FRI"';
  // croner also reads six fields (seconds first), which would shift every field of a schedule meant otherwise.
  const fields = freeze.schedule.trim().split(/\s+/u).length;
  if (fields !== 5) {
    problems.push({
      field: 'freeze/schedule',
      message: `has ${fields} fields; a freeze schedule has five (${form})`,
    });
    return problems;
  }
  let cron: Cron;
  try {
    cron = new Cron(freeze.schedule, { timezone: freeze.timezone, paused: true });
  } catch (error) {
    problems.push({
      field: 'freeze/schedule',
      message: `not a cron schedule (${form}): ${(error as Error).message}`,
    });
    return problems;
  }
  if (cron.nextRun() === null) {
    problems.push({
      field: 'freeze/schedule',
      message: `never starts a window (no date matches it, e.g. February 30th), so it would freeze nothing; write one that does (${form})`,
    });
  }
  return problems;
}

// Parsed schedules by schedule and time zone: parsing is most of the cost of checking a freeze.
const crons = new Map<string, Cron>();

function cronFor(schedule: string, timezone: string | undefined): Cron {
  const key = `${timezone ?? ''} ${schedule}`;
  let cron = crons.get(key);
  if (!cron) {
    cron = new Cron(schedule, { timezone, paused: true });
    if (crons.size >= COMPILED_CACHE_SIZE) crons.clear();
    crons.set(key, cron);
  }
  return cron;
}

/** The freeze window `now` falls in, if any. */
export function activeFreezeWindow(freeze: PolicyFreeze, now: Date): { from: Date; to: Date } | undefined {
  if ('from' in freeze) {
    const from = new Date(freeze.from);
    const to = new Date(freeze.to);
    return from <= now && now < to ? { from, to } : undefined;
  }
  const length = durationMs(freeze.duration);
  const cron = cronFor(freeze.schedule, freeze.timezone);
  // The first window start after (now - duration): if it is not after now, now is inside that window.
  const start = cron.nextRun(new Date(now.getTime() - length));
  if (!start || start > now) return undefined;
  // A window that starts before the one before it has ended, or as it ends (a freeze as long as the time
  // between its starts, or longer), carries the freeze on: it lasts until the last such window ends, looked ahead CHAINED_WINDOWS far.
  let end = start.getTime() + length;
  let previous: Date = start;
  for (let chained = 0; chained < CHAINED_WINDOWS; chained++) {
    const next = cron.nextRun(previous);
    if (!next || next.getTime() > end) break;
    end = Math.max(end, next.getTime() + length);
    previous = next;
  }
  return { from: start, to: new Date(end) };
}

/** How many following windows activeFreezeWindow chains onto the current one at most. */
const CHAINED_WINDOWS = 100;

function declaredResources(workloads: ScoreWorkload[]): Map<string, Omit<PolicyResource, 'action'>> {
  const declared = new Map<string, Omit<PolicyResource, 'action'>>();
  for (const workload of workloads) {
    for (const [name, resource] of Object.entries(workload.resources ?? {})) {
      const address =
        resource.id === undefined ? `${workload.metadata.name}.${name}` : `shared.${resource.id}`;
      declared.set(address, {
        address,
        type: resource.type,
        class: resource.class ?? 'default',
        params: (resource.params ?? {}) as Record<string, unknown>,
      });
    }
  }
  return declared;
}

function planResources(input: PolicyInput): PolicyResource[] {
  const declared = declaredResources(input.workloads);
  if (!input.resources) return [...declared.values()].map((resource) => ({ ...resource, action: 'create' }));
  return input.resources.map((change) => {
    const declaration = declared.get(change.address);
    return {
      address: change.address,
      type: change.type,
      action: change.action,
      class: declaration?.class ?? 'default',
      params: declaration?.params ?? {},
    };
  });
}

type Activation = Record<string, unknown>;

/** The context rules are evaluated against (without `workload` and `container`). */
export function policyContext(input: PolicyInput): Activation {
  return {
    app: input.app,
    environment: { id: input.environment.id, type: input.environment.type },
    deployment: {
      kind: input.deployment.kind,
      actor: input.deployment.actor,
      allowDataLoss: input.deployment.allowDataLoss,
      prune: input.deployment.prune,
    },
    workloads: input.workloads,
    plan: { resources: planResources(input) },
    values: { keys: [...input.valueKeys].sort() },
  };
}

interface Subject {
  workload?: string;
  container?: string;
  activation: Activation;
}

function subjects(scope: PolicyScope, base: Activation, workloads: ScoreWorkload[]): Subject[] {
  if (scope === 'deployment') return [{ activation: base }];
  const sorted = [...workloads].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  if (scope === 'workload') {
    return sorted.map((workload) => ({
      workload: workload.metadata.name,
      activation: { ...base, workload },
    }));
  }
  return sorted.flatMap((workload) =>
    Object.keys(workload.containers)
      .sort()
      .map((name) => ({
        workload: workload.metadata.name,
        container: name,
        activation: { ...base, workload, container: { name, ...workload.containers[name] } },
      })),
  );
}

function failed(policy: Policy, message: string, subject?: Omit<Subject, 'activation'>): PolicyVerdict {
  return {
    policy: policy.id,
    severity: policy.severity,
    outcome: policy.severity,
    message,
    ...(subject?.workload !== undefined ? { workload: subject.workload } : {}),
    ...(subject?.container !== undefined ? { container: subject.container } : {}),
  };
}

function passed(policy: Policy, note?: string): PolicyVerdict {
  return {
    policy: policy.id,
    severity: policy.severity,
    outcome: 'pass',
    message: note ? `${policy.message} (${note})` : policy.message,
  };
}

function evaluateRule(
  policy: Policy & { rule: string },
  base: Activation,
  input: PolicyInput,
): PolicyVerdict[] {
  const scope = policy.each ?? 'deployment';
  let expression: ParseResult;
  try {
    expression = compileRule(policy.rule, scope);
  } catch (error) {
    const failure = error as CelFailure;
    return [
      {
        ...failed(
          policy,
          `${policy.message} (the rule does not compile: ${failure.summary ?? failure.message})`,
        ),
        outcome: 'deny',
      },
    ];
  }
  const verdicts: PolicyVerdict[] = [];
  for (const subject of subjects(scope, base, input.workloads)) {
    let result: unknown;
    try {
      result = expression(subject.activation);
    } catch (error) {
      // Fail closed: a rule that cannot be evaluated denies, whatever its severity.
      const failure = error as CelFailure;
      verdicts.push({
        ...failed(
          policy,
          `${policy.message} (the rule failed to evaluate: ${failure.summary ?? failure.message})`,
          subject,
        ),
        outcome: 'deny',
      });
      continue;
    }
    if (result === true) continue;
    if (result === false) verdicts.push(failed(policy, policy.message, subject));
    else {
      verdicts.push({
        ...failed(policy, `${policy.message} (the rule gave ${typeof result}, not true or false)`, subject),
        outcome: 'deny',
      });
    }
  }
  return verdicts.length ? verdicts : [passed(policy)];
}

function evaluateGate(policy: Policy, input: PolicyInput): PolicyVerdict {
  const gate = policy.promotionGate!;
  if (!input.setSuccesses) return passed(policy, 'promotion gate not checked offline');
  const since = input.now.getTime() - durationMs(gate.within);
  const proof = input.setSuccesses
    .filter((success) => success.envType === gate.from && Date.parse(success.finishedAt) >= since)
    .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0];
  if (proof) return passed(policy, `succeeded in ${proof.envId} at ${proof.finishedAt}`);
  return failed(
    policy,
    `${policy.message} (this exact set has not succeeded in a ${gate.from} environment of ${input.app} within ${gate.within})`,
  );
}

function evaluateFreeze(policy: Policy, input: PolicyInput): PolicyVerdict {
  let window: { from: Date; to: Date } | undefined;
  try {
    window = activeFreezeWindow(policy.freeze!, input.now);
  } catch (error) {
    return {
      ...failed(policy, `${policy.message} (the freeze cannot be evaluated: ${(error as Error).message})`),
      outcome: 'deny',
    };
  }
  if (!window) return passed(policy);
  return failed(
    policy,
    `${policy.message} (frozen from ${window.from.toISOString()} until ${window.to.toISOString()})`,
  );
}

/**
 * Evaluates every policy that applies to the deployment (see {@link policyApplies}), in id order. A policy
 * gives one `pass` verdict, or one `warn`/`deny` verdict per failure (per workload or container for rules
 * with `each`). A rule that cannot be evaluated (it throws, or gives something other than true or false)
 * denies whatever its severity: policies fail closed.
 */
export function evaluatePolicies(policies: readonly Policy[], input: PolicyInput): PolicyVerdict[] {
  const target = { appId: input.app, envId: input.environment.id, envType: input.environment.type };
  const applicable = policies
    .filter((policy) => policyApplies(policy, target))
    .sort((a, b) => a.id.localeCompare(b.id));
  let base: Activation | undefined;
  return applicable.flatMap((policy) => {
    if (policy.rule !== undefined) {
      base ??= policyContext(input);
      return evaluateRule(policy as Policy & { rule: string }, base, input);
    }
    if (policy.promotionGate) return [evaluateGate(policy, input)];
    return [evaluateFreeze(policy, input)];
  });
}

/** The verdicts that refuse the deployment. */
export function denials(verdicts: readonly PolicyVerdict[]): PolicyVerdict[] {
  return verdicts.filter((verdict) => verdict.outcome === 'deny' && !verdict.overridden);
}
