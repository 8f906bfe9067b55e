import { z } from 'zod';
import { NUMERIC_ID_PATTERN, SourceDir, dnsLabel } from './ids.ts';
import { pageLimit } from './paging.ts';
import type { WorkloadSource } from './deployments.ts';

/*
 * Build artifacts and automation rules. CI registers what it built (an artifact: the Score files of a commit,
 * and the image it pushed); a rule deploys every artifact of a branch to an environment as soon as it is
 * pushed, checked each time against the permissions of the person who made the rule.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');
const numericId = (what: string) => z.string().regex(NUMERIC_ID_PATTERN, { message: `must be ${what} id` });

/** How far ahead of the control plane's clock a commit time may be: the clocks of CI and laptops drift. */
export const COMMIT_TIME_SKEW_SECONDS = 300;

/**
 * When a commit was made, as CI or `pave deploy --commit-time` sends it: an RFC 3339 time with an offset, not
 * in the future (beyond {@link COMMIT_TIME_SKEW_SECONDS} of clock drift), since it starts a lead time.
 */
export const CommitTime = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z' })
  .refine((text) => Date.parse(text) <= Date.now() + COMMIT_TIME_SKEW_SECONDS * 1000, {
    message:
      'is in the future: give the time the commit was made (`git show -s --format=%cI <commit>`), ' +
      'or check the clock of the machine that sent it',
  });

/** A build artifact: the Score workloads of one commit, with the image CI built for them. */
export const Artifact = z
  .object({
    id: z.string().describe('`pave deploy --artifact ID` deploys it.'),
    app: z.string(),
    workloads: z.array(z.string()).describe('The workloads its Score files describe, sorted.'),
    image: z.string().nullable().describe('The image CI built; containers whose image is `.` run it.'),
    commit: z.string().describe('The commit it was built from.'),
    branch: z.string().nullable().describe('The branch CI built, if it named one; rules match it.'),
    commitTime: timestamp.nullable().describe('When the commit was made, if CI said.'),
    createdAt: timestamp,
    createdBy: z.string().describe('Who pushed it (usually a service account).'),
  })
  .meta({ id: 'Artifact' });
export type Artifact = z.infer<typeof Artifact>;

/** One Score file of an artifact, as text: the server validates it and reports problems at file:line:column. */
export const ArtifactScoreFile = z.strictObject({
  file: z
    .string()
    .min(1)
    .max(500)
    .describe(
      'The Score file’s path relative to `dir`, i.e. its name (`pave artifacts push` sends that however the ' +
        'path was typed), for messages; it is part of the deployment set.',
    ),
  content: z
    .string()
    .max(512 * 1024)
    .describe('The Score file’s YAML text.'),
  dir: SourceDir.describe(
    'Absolute directory of the Score file on the machine that built it (see WorkloadSource).',
  ),
});
export type ArtifactScoreFile = z.infer<typeof ArtifactScoreFile>;

/** What CI sends to register an artifact. */
export const PushArtifactInput = z
  .strictObject({
    scoreFiles: z.array(ArtifactScoreFile).min(1).max(200).describe('One Score file per workload.'),
    image: z
      .string()
      .min(1)
      .max(500)
      .regex(/^\S+$/, { message: 'must be an image reference without spaces' })
      .optional()
      .describe('The image CI built: it replaces the image `.` of the containers of `workload`.'),
    workload: dnsLabel
      .optional()
      .describe('The workload the image is for; needed with `image` when there are several workloads.'),
    commit: z
      .string()
      .min(1)
      .max(200)
      .regex(/^\S+$/, { message: 'must be a commit id without spaces, e.g. a git SHA' }),
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(/^\S+$/, { message: 'must be a branch name without spaces' })
      .optional(),
    commitTime: CommitTime.optional(),
  })
  .meta({ id: 'PushArtifactInput' });
export type PushArtifactInput = z.infer<typeof PushArtifactInput>;

/** What a rule did when an artifact was pushed: the deployment it queued, or why it did not. */
export const RuleOutcome = z.object({
  ruleId: z.string(),
  env: z.string(),
  deploymentId: z.string().nullable(),
  awaitsApproval: z
    .boolean()
    .describe(
      "Whether that deployment awaits approval (the environment's type requires one) rather than queued.",
    ),
  refused: z.string().nullable().describe('Why the rule did not deploy, if it did not.'),
});
export type RuleOutcome = z.infer<typeof RuleOutcome>;

/** The answer to a push: the artifact, and what each rule it matched did. */
export const PushedArtifact = Artifact.extend({
  triggered: z.array(RuleOutcome).describe('The rules whose branch (and workload) the artifact matched.'),
}).meta({ id: 'PushedArtifact' });
export type PushedArtifact = z.infer<typeof PushedArtifact>;

/** An automation rule: deploy every artifact of a matching branch to an environment. */
export const Rule = z
  .object({
    id: z.string(),
    app: z.string(),
    env: z.string(),
    branch: z.string().describe('A glob matched against the artifact’s branch, e.g. `main` or `release/*`.'),
    workload: z
      .string()
      .nullable()
      .describe('Only artifacts that contain this workload; null: any artifact.'),
    createdBy: z.string().describe('Whose permissions the rule deploys with, checked at every push.'),
    createdAt: timestamp,
  })
  .meta({ id: 'Rule' });
export type Rule = z.infer<typeof Rule>;

/** Create a rule. */
export const CreateRuleInput = z
  .strictObject({
    env: dnsLabel,
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(/^\S+$/, { message: 'must be a branch glob without spaces, e.g. main or release/*' }),
    workload: dnsLabel.optional(),
  })
  .meta({ id: 'CreateRuleInput' });
export type CreateRuleInput = z.infer<typeof CreateRuleInput>;

export const ArtifactParams = z.strictObject({ app: dnsLabel, id: numericId('an artifact') });
export const RuleParams = z.strictObject({ app: dnsLabel, id: numericId('a rule') });

export const ArtifactListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).optional().describe('At most this many (50 unless given).'),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, { message: 'must be the nextCursor value of a previous page' })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (artifacts older than that one).'),
});
export type ArtifactListQuery = z.infer<typeof ArtifactListQuery>;

/** A page of an app's artifacts, newest first; `nextCursor` fetches the next (older) page, null on the last. */
export const ArtifactPage = z.object({ items: z.array(Artifact), nextCursor: z.string().nullable() });
export type ArtifactPage = z.infer<typeof ArtifactPage>;

/** `GET /apps/{app}/rules`: a page of an app's rules, oldest first. */
export const RuleListQuery = z.strictObject({
  limit: pageLimit('rules', 100),
  cursor: z
    .string()
    .regex(NUMERIC_ID_PATTERN, { message: 'must be the nextCursor value of a previous page' })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (rules created after that one).'),
});
export type RuleListQuery = z.infer<typeof RuleListQuery>;

/** A page of an app's rules, oldest first; `nextCursor` (a rule id) fetches the next page, null on the last. */
export const RulePage = z.object({ items: z.array(Rule), nextCursor: z.string().nullable() });
export type RulePage = z.infer<typeof RulePage>;

/** The image a Score container names to say "the image built for this deployment", as in score-compose. */
export const BUILT_IMAGE = '.';

/**
 * Sets `image` as the image of every container whose image is `.` in `workloads`, as score-compose's
 * `--image` does; other containers keep theirs. Returns new workloads (the given ones are not changed) and
 * how many containers got the image.
 */
export function setBuiltImage(
  workloads: readonly WorkloadSource[],
  image: string,
): { workloads: WorkloadSource[]; replaced: number } {
  let replaced = 0;
  const result = workloads.map((workload) => {
    const containers = Object.fromEntries(
      Object.entries(workload.spec.containers).map(([name, container]) => {
        if (container.image !== BUILT_IMAGE) return [name, container];
        replaced++;
        return [name, { ...container, image }];
      }),
    );
    return { ...workload, spec: { ...workload.spec, containers } };
  });
  return { workloads: result, replaced };
}
