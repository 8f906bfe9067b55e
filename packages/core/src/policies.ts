import { z } from 'zod';
import { dnsLabel, printableText } from './ids.ts';
import { labelPageQuery, pageOf } from './paging.ts';

/*
 * Schemas of policies as code: rules every deployment, rollback and promotion is checked against when it is
 * planned. The evaluator lives in `policy-eval.ts` (imported on its own, so that loading the schemas does not
 * load the CEL interpreter).
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** How long a gate or freeze lasts: a whole number of minutes (m), hours (h), days (d) or weeks (w). */
export const PolicyDuration = z
  .string()
  .regex(/^[1-9]\d{0,5}(m|h|d|w)$/u, { message: 'a duration like 30m, 64h, 7d or 2w' });

/** Milliseconds of a {@link PolicyDuration}, e.g. `7d`. */
export function durationMs(duration: string): number {
  const unit = duration.slice(-1);
  const factor = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[unit] ?? Number.NaN;
  return Number(duration.slice(0, -1)) * factor;
}

/** Where a policy applies: every field it sets must equal the deployment's (like a definition's criteria). */
export const PolicyCriterion = z.strictObject({
  envType: dnsLabel.optional(),
  appId: dnsLabel.optional(),
  envId: dnsLabel.optional(),
});
export type PolicyCriterion = z.infer<typeof PolicyCriterion>;

/** The set being deployed must have succeeded in an environment of type `from` of the same app within `within`. */
export const PromotionGate = z.strictObject({
  from: dnsLabel.describe('The environment type the set must have succeeded in, e.g. staging.'),
  within: PolicyDuration.describe('How recently, e.g. 7d.'),
});
export type PromotionGate = z.infer<typeof PromotionGate>;

/** A recurring freeze: windows start by a cron schedule (5 fields) and last `duration`. */
export const RecurringFreeze = z.strictObject({
  schedule: z.string().min(9).max(200).describe('When each window starts, e.g. `0 16 * * FRI`.'),
  duration: PolicyDuration.describe('How long each window lasts, e.g. 64h.'),
  timezone: z.string().min(1).max(100).optional().describe('IANA time zone of the schedule; default UTC.'),
});
/** A one-off freeze between two instants. */
export const FixedFreeze = z.strictObject({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
});
/** A deploy freeze: no deployments inside its windows. */
export const PolicyFreeze = z.union([RecurringFreeze, FixedFreeze]);
export type PolicyFreeze = z.infer<typeof PolicyFreeze>;

/** What a rule is evaluated for: once per deployment (default), once per workload, or once per container. */
export const PolicyScope = z.enum(['deployment', 'workload', 'container']);
export type PolicyScope = z.infer<typeof PolicyScope>;

const policyShape = {
  id: dnsLabel,
  description: printableText({ multiline: true }).max(1000).optional(),
  criteria: z
    .array(PolicyCriterion)
    .max(100)
    .optional()
    .describe('Any one matching criterion is enough; none: the policy applies everywhere.'),
  severity: z.enum(['deny', 'warn']),
  message: printableText().min(1).max(1000).describe('What a failing deployment is told, and how to fix it.'),
  rule: z
    .string()
    .min(1)
    .max(4000)
    .optional()
    .describe('A CEL expression that is true when the deployment complies.'),
  each: PolicyScope.optional().describe(
    'With `rule`: evaluate once per `deployment` (default), per `workload` (the variable `workload`) or per ' +
      '`container` (the variables `workload` and `container`).',
  ),
  promotionGate: PromotionGate.optional(),
  freeze: PolicyFreeze.optional(),
};

const KINDS = ['rule', 'promotionGate', 'freeze'] as const;

/** Which check a policy makes. */
export type PolicyKind = (typeof KINDS)[number];

/**
 * A policy: where it applies (`criteria`), how bad a failure is (`severity`), what to tell (`message`) and
 * exactly one check: a CEL `rule`, a `promotionGate` or a `freeze`.
 */
export const Policy = z
  .strictObject(policyShape)
  .superRefine((policy, context) => {
    const kinds = KINDS.filter((kind) => policy[kind] !== undefined);
    if (kinds.length !== 1) {
      context.addIssue({
        code: 'custom',
        path: [],
        message: `give exactly one of rule, promotionGate or freeze (found ${kinds.length ? kinds.join(', ') : 'none'})`,
      });
    }
    if (policy.each !== undefined && policy.rule === undefined) {
      context.addIssue({ code: 'custom', path: ['each'], message: '`each` goes with `rule` only' });
    }
  })
  .meta({ id: 'Policy' });
export type Policy = z.infer<typeof Policy>;

/** Which check a policy makes (the one of rule, promotionGate, freeze it has). */
export function policyKind(policy: Policy): PolicyKind {
  return KINDS.find((kind) => policy[kind] !== undefined) ?? 'rule';
}

/** A stored policy, with who changed it last. */
export const PolicyRecord = z
  .strictObject({
    ...policyShape,
    createdAt: timestamp,
    createdBy: z.string(),
    updatedAt: timestamp,
    updatedBy: z.string(),
  })
  .meta({ id: 'PolicyRecord' });
export type PolicyRecord = z.infer<typeof PolicyRecord>;

/** Apply policies declaratively: new ones are created, changed ones updated, the others left alone. */
export const ApplyPoliciesBody = z
  .strictObject({
    policies: z.array(Policy).min(1).max(500),
    dryRun: z.boolean().optional().describe('Only show the plan; change nothing.'),
  })
  .meta({ id: 'ApplyPoliciesBody' });
export type ApplyPoliciesBody = z.infer<typeof ApplyPoliciesBody>;

/** What applying policies changes (or would change, on a dry run). */
export const PoliciesPlan = z
  .object({
    applied: z.boolean(),
    changes: z.array(
      z.object({
        id: z.string(),
        action: z.enum(['create', 'update', 'unchanged']),
        /** Top-level fields that differ (update only). */
        fields: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: 'PoliciesPlan' });
export type PoliciesPlan = z.infer<typeof PoliciesPlan>;

/** How one policy judged a deployment (for container and workload rules: one verdict per failing one). */
export const PolicyVerdict = z
  .object({
    policy: z.string(),
    severity: z.enum(['deny', 'warn']),
    outcome: z.enum(['pass', 'warn', 'deny']),
    message: z.string(),
    workload: z.string().optional(),
    container: z.string().optional(),
    overridden: z
      .boolean()
      .optional()
      .describe('A deny an org admin overrode for this deployment (`overridePolicies`).'),
  })
  .meta({ id: 'PolicyVerdict' });
export type PolicyVerdict = z.infer<typeof PolicyVerdict>;

/** Override a denying policy for one deployment (org admins only); the reason is recorded. */
export const PolicyOverride = z.strictObject({
  id: dnsLabel,
  reason: printableText().min(1).max(500),
});
export type PolicyOverride = z.infer<typeof PolicyOverride>;

/** An override as recorded on a deployment: who overrode which policy and why. */
export const RecordedPolicyOverride = z.object({ id: z.string(), reason: z.string(), by: z.string() });
export type RecordedPolicyOverride = z.infer<typeof RecordedPolicyOverride>;

export const PolicyParams = z.strictObject({ id: dnsLabel });

export const PolicyListQuery = labelPageQuery('policies', 100);
export type PolicyListQuery = z.infer<typeof PolicyListQuery>;
/** A page of policies, ordered by id. */
export const PolicyPage = pageOf(PolicyRecord);
export type PolicyPage = z.infer<typeof PolicyPage>;
