import { z } from 'zod';
import { CommitTime } from './artifacts.ts';
import { ResourceChange } from './resources.ts';
import { NUMERIC_ID_PATTERN, SourceDir, dnsLabel, printableText } from './ids.ts';
import { ScoreWorkload } from './score/schema.ts';
import { ValueChange } from './values.ts';
import { PolicyOverride, PolicyVerdict, RecordedPolicyOverride } from './policies.ts';

/**
 * Schemas of deployments: immutable deployment sets, deployments (durable jobs with a journal), status,
 * logs and diffs.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** How many of the developer's own manifests one workload may carry, and how large each may be (as JSON). */
export const WORKLOAD_MANIFEST_LIMITS = { count: 100, bytes: 256 * 1024 } as const;

/**
 * One of the developer's own Kubernetes manifests deployed with a workload (`pave deploy --manifests DIR`): the
 * object as parsed from its YAML document, and where it comes from. It needs `apiVersion`, `kind` and
 * `metadata.name`; the runtime places it in the environment's namespace and labels it as the workload's.
 */
export const WorkloadManifest = z
  .strictObject({
    /**
     * The YAML file it was read from, relative to the Score file's directory with `/` separators
     * (`k8s/netpol.yaml`), however the path was typed: it is part of the deployment set.
     */
    file: z.string().min(1).max(1000),
    /** Which document of the file it is, counted from 1 (empty documents count too). */
    document: z.number().int().min(1).max(10_000).optional(),
    manifest: z.record(z.string(), z.unknown()),
  })
  .superRefine((entry, ctx) => {
    const { manifest } = entry;
    for (const field of ['apiVersion', 'kind'] as const) {
      const value = manifest[field];
      if (typeof value !== 'string' || value.trim() === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['manifest', field],
          message: `a Kubernetes manifest needs \`${field}\` (a string)`,
        });
      }
    }
    if (manifest.kind === 'Secret' && manifest.apiVersion === 'v1') {
      ctx.addIssue({
        code: 'custom',
        path: ['manifest', 'kind'],
        message:
          'a Secret would be stored in plaintext in the deployment set; keep secrets in the environment ' +
          '(`pave values set KEY=VALUE --secret`) and use them through Score variables',
      });
    }
    const metadata = manifest.metadata;
    const name =
      metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
        ? (metadata as Record<string, unknown>).name
        : undefined;
    if (typeof name !== 'string' || name.trim() === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['manifest', 'metadata', 'name'],
        message: 'a Kubernetes manifest needs `metadata.name` (a string)',
      });
    }
    const size = new TextEncoder().encode(JSON.stringify(manifest)).length;
    if (size > WORKLOAD_MANIFEST_LIMITS.bytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['manifest'],
        message: `is ${size} bytes as JSON; a manifest may have at most ${WORKLOAD_MANIFEST_LIMITS.bytes}`,
      });
    }
  });
export type WorkloadManifest = z.infer<typeof WorkloadManifest>;

/** Where a workload's manifest comes from, for messages: `k8s/netpol.yaml#2` (its document, from 1). */
export function manifestSource(entry: WorkloadManifest, index: number): string {
  return `${entry.file}#${entry.document ?? index + 1}`;
}

/** `ConfigMap/api-config`: how a manifest is named in diffs and messages. */
export function manifestName(manifest: Record<string, unknown>): string {
  const metadata = manifest.metadata as { name?: unknown } | undefined;
  return `${String(manifest.kind ?? '?')}/${String(metadata?.name ?? '?')}`;
}

/** One workload as sent by a client: its Score spec and where its Score file lives. */
export const WorkloadSource = z.strictObject({
  spec: ScoreWorkload,
  /** The Score file's directory on the machine that runs it (the process runtime runs commands there). */
  dir: z
    .string()
    .min(1)
    .describe('Absolute directory of the Score file; the process runtime runs commands there.'),
  /**
   * The Score file's name in `dir` (`score.yaml`), for messages. `pave deploy` sends it relative to `dir`, not
   * as typed: it is part of the deployment set, which must not depend on the path given on the command line.
   */
  file: z.string().optional(),
  manifests: z
    .array(WorkloadManifest)
    .max(WORKLOAD_MANIFEST_LIMITS.count)
    .optional()
    .describe(
      "The developer's own Kubernetes manifests deployed with the workload (`pave deploy --manifests DIR`); " +
        'only kubernetes runtime targets accept them.',
    ),
});
export type WorkloadSource = z.infer<typeof WorkloadSource>;

/** An immutable deployment set: every workload of an environment, identified by the hash of its canonical form. */
export const DeploymentSet = z
  .object({
    id: z.string().describe('SHA-256 of the canonical JSON of `workloads`.'),
    workloads: z.record(z.string(), WorkloadSource),
    createdAt: timestamp,
  })
  .meta({ id: 'DeploymentSet' });
export type DeploymentSet = z.infer<typeof DeploymentSet>;

/**
 * `awaiting-approval`: into an environment whose type requires approval, not yet approved (it never runs
 * until approved, which makes it `queued`); `rejected`, `expired` (not decided in time) and `superseded` (a
 * newer deployment of the environment was asked for) end such a request without running it.
 */
export const DeploymentStatus = z.enum([
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'awaiting-approval',
  'rejected',
  'expired',
  'superseded',
]);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

/**
 * What a deployment does: `deploy` (workloads or an artifact), `rollback` (an earlier deployment's set),
 * `promote` (another environment's current set), `clone` (the source's set, into a new environment), `restart`
 * (the environment's current set and values again, queued by Pave itself when it starts and finds workloads of
 * that set stopped, e.g. after a reboot or `pave down`: it restores the desired state, is not a change, and
 * cannot be asked for through the API).
 */
export const DeploymentKind = z.enum(['deploy', 'rollback', 'promote', 'clone', 'restart']);
export type DeploymentKind = z.infer<typeof DeploymentKind>;

/** One step in a deployment's journal. */
export const JournalEntry = z.object({
  id: z.number().int(),
  at: timestamp,
  step: z.string().describe('plan, render, remove, deploy, ready, rollback, resume, finish'),
  workload: z.string().nullable(),
  status: z.enum(['started', 'succeeded', 'failed', 'info']),
  message: z.string(),
});
export type JournalEntry = z.infer<typeof JournalEntry>;

export const Deployment = z
  .object({
    id: z.string(),
    appId: z.string(),
    envId: z.string(),
    kind: DeploymentKind,
    /** The set this deployment applies; null while queued (a partial deploy's set is made when it starts). */
    setId: z.string().nullable(),
    /** What it was made from: another deployment (rollback, restart) or environment (promote, clone). */
    source: z.object({ deploymentId: z.string().optional(), envId: z.string().optional() }),
    actor: z.string(),
    message: z.string(),
    status: DeploymentStatus,
    reason: z.string().nullable().describe('Why it failed, for people.'),
    /** Whether a failed deployment restored the previous set. */
    rolledBack: z.boolean(),
    /**
     * The version of the environment's values it runs with: pinned when it starts, or already when it is asked
     * for if it awaits approval (the values approved), is a rollback (its source's) or a restart.
     */
    valuesVersion: z.number().int().nullable(),
    /** The build artifact it deploys (`pave deploy --artifact`, or a rule), if one. */
    artifactId: z.string().nullable(),
    /** The commit of that artifact, or the one `pave deploy --commit` named. */
    commit: z.string().nullable(),
    commitTime: timestamp
      .nullable()
      .optional()
      .describe('When that commit was made (the artifact’s, or `--commit-time`); lead time starts there.'),
    policyOverrides: z
      .array(RecordedPolicyOverride)
      .optional()
      .describe('Denying policies an org admin overrode for this deployment, and why.'),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: 'Deployment' });
export type Deployment = z.infer<typeof Deployment>;

export const DeploymentDetail = Deployment.extend({
  journal: z.array(JournalEntry),
  /** Workloads of the set (null while queued). */
  workloads: z.array(z.string()).nullable(),
  workloadArtifacts: z
    .record(z.string(), z.string().nullable())
    .nullable()
    .describe(
      'The build artifact each workload of the set came from, by workload (null: deployed without one); ' +
        'a set is built up by many deployments, so it may name artifacts other than `artifactId`. Null while queued.',
    ),
}).meta({ id: 'DeploymentDetail' });
export type DeploymentDetail = z.infer<typeof DeploymentDetail>;

const deployOptions = {
  message: printableText({ multiline: true }).max(1000).optional(),
  timeoutSeconds: z.number().int().min(1).max(3600).optional().describe('Readiness timeout; default 60.'),
  autoRollback: z.boolean().optional().describe('Restore the previous set if this one fails; default true.'),
  plan: z.boolean().optional().describe('Only show what would change; nothing is queued.'),
  prune: z.boolean().optional().describe('Delete resources the new set no longer uses; default false.'),
  allowDataLoss: z
    .boolean()
    .optional()
    .describe(
      'Accept losing data: with prune, also delete unused stateful resources (postgres, redis, volume); and replace a stateful resource its driver cannot change in place (deleted and created again, empty). Default false.',
    ),
  minReadySeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe(
      "The stability window: a workload without a readiness probe counts as ready once it kept running this long; default: the environment type's setting, else 5.",
    ),
  recreateMissing: z
    .boolean()
    .optional()
    .describe(
      'Create resources again that are recorded but gone (see `pave resources check`); default false.',
    ),
  overridePolicies: z
    .array(PolicyOverride)
    .max(50)
    .optional()
    .describe('Let it through denying policies, each with a reason; org admins only. Recorded and audited.'),
};

/**
 * Create a deployment. Exactly one of: `workloads`/`remove` (deploy: these workloads replace their namesakes,
 * the environment's other workloads stay), `artifact` (deploy a build artifact's workloads the same way),
 * `fromDeployment` (rollback to that deployment's set), or `fromEnv` (promote: that environment's current set).
 */
export const CreateDeploymentBody = z.strictObject({
  workloads: z
    .array(WorkloadSource.extend({ dir: SourceDir.describe(WorkloadSource.shape.dir.description!) }))
    .max(200)
    .optional(),
  remove: z.array(dnsLabel).max(200).optional(),
  fromDeployment: z.string().regex(NUMERIC_ID_PATTERN, { message: 'must be a deployment id' }).optional(),
  fromEnv: dnsLabel.optional(),
  artifact: z
    .string()
    .regex(NUMERIC_ID_PATTERN, { message: 'must be an artifact id (`pave artifacts list`)' })
    .optional()
    .describe("Deploy a build artifact's workloads (`POST /apps/{app}/artifacts`) instead of `workloads`."),
  commit: z
    .string()
    .min(1)
    .max(200)
    .regex(/^\S+$/, { message: 'must be a commit id without spaces, e.g. a git SHA' })
    .optional()
    .describe('The commit the workloads were built from (an artifact names its own).'),
  commitTime: CommitTime.optional().describe(
    'When that commit was made: the start of its lead time (see docs/insights.md); not in the future.',
  ),
  ...deployOptions,
});
export type CreateDeploymentBody = z.infer<typeof CreateDeploymentBody>;

/** Roll back: redeploy an earlier deployment's set as a new deployment (default: the previous successful set). */
export const RollbackBody = z.strictObject({
  deploymentId: z.string().regex(NUMERIC_ID_PATTERN, { message: 'must be a deployment id' }).optional(),
  message: deployOptions.message,
  timeoutSeconds: deployOptions.timeoutSeconds,
  recreateMissing: deployOptions.recreateMissing,
  overridePolicies: deployOptions.overridePolicies,
});
export type RollbackBody = z.infer<typeof RollbackBody>;

/** A change a deployment would make to one workload. */
export const WorkloadChange = z.object({
  workload: z.string(),
  action: z.enum(['add', 'update', 'remove', 'keep']),
  /** Dotted paths of the Score fields that differ (update only). */
  fields: z.array(z.string()),
  manifests: z
    .array(
      z.object({
        action: z.enum(['add', 'remove', 'update']),
        /** `Kind/name`, e.g. `ConfigMap/api-config`. */
        manifest: z.string(),
        /** Where it comes from (`k8s/config.yaml#1`): the new side's, or the old one's when removed. */
        source: z.string(),
      }),
    )
    .optional()
    .describe("The workload's own manifests (`--manifests`) that are added, removed or changed."),
});
export type WorkloadChange = z.infer<typeof WorkloadChange>;

/** The difference between two deployment sets. */
export const SetDiff = z
  .object({
    from: z.object({ setId: z.string().nullable(), label: z.string() }),
    to: z.object({ setId: z.string().nullable(), label: z.string() }),
    changes: z.array(WorkloadChange),
    /** Changes of the values (config and secrets) the two sides run with; secrets say only that they changed. */
    values: z.array(ValueChange),
    /** A unified diff of the workloads' canonical YAML, for people. */
    unified: z.string(),
  })
  .meta({ id: 'SetDiff' });
export type SetDiff = z.infer<typeof SetDiff>;

/** What `plan: true` answers: the set that would be deployed and the changes against the current one. */
export const DeploymentPlan = z
  .object({
    setId: z.string(),
    workloads: z.array(z.string()),
    diff: SetDiff,
    resources: z.array(ResourceChange),
    policies: z
      .array(PolicyVerdict)
      .optional()
      .describe('How every policy that applies judges the deployment; a deny refuses it (HTTP 422).'),
  })
  .meta({ id: 'DeploymentPlan' });
export type DeploymentPlan = z.infer<typeof DeploymentPlan>;

export const DeploymentParams = z.strictObject({
  app: dnsLabel,
  env: dnsLabel,
  id: z.string().regex(NUMERIC_ID_PATTERN, { message: 'must be a deployment id' }),
});

export const DeploymentListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z
    .string()
    .regex(NUMERIC_ID_PATTERN, { message: 'must be the nextCursor value of a previous page' })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (deployments older than that one).'),
});

/** A page of an environment's deployments, newest first; `nextCursor` fetches the next (older) page. */
export const DeploymentPage = z.object({
  items: z.array(Deployment),
  nextCursor: z.string().nullable(),
});
export type DeploymentPage = z.infer<typeof DeploymentPage>;

export const DiffQuery = z.strictObject({
  from: z.string().regex(NUMERIC_ID_PATTERN, { message: 'must be a deployment id' }).optional(),
  to: z.string().regex(NUMERIC_ID_PATTERN, { message: 'must be a deployment id' }).optional(),
  toEnv: dnsLabel.optional().describe('Compare this environment’s current set with another environment’s.'),
});

/**
 * How a workload or environment is doing now, apart from how its last deployment went (as Argo CD separates
 * health from sync): `healthy` (ready), `progressing` (starting, not ready yet, or a deployment is running),
 * `degraded` (crash-looping, stopped or missing though it should run), `unknown` (the runtime cannot say, or
 * nothing was ever deployed to say it of).
 */
export const HealthStatus = z
  .enum(['healthy', 'progressing', 'degraded', 'unknown'])
  .meta({ id: 'HealthStatus' });
export type HealthStatus = z.infer<typeof HealthStatus>;

/** Live status of an environment's workloads. */
export const EnvironmentStatus = z
  .object({
    appId: z.string(),
    envId: z.string(),
    currentDeployment: Deployment.nullable(),
    /** The newest deployment that is queued or running, if any. */
    pendingDeployment: Deployment.nullable(),
    latestDeployment: Deployment.nullable()
      .optional()
      .describe(
        'The newest deployment whatever its status (the sync: did the last deployment succeed?); null: none yet.',
      ),
    health: HealthStatus.optional().describe(
      'The worst health of its workloads (degraded > unknown > progressing > healthy); unknown when nothing ' +
        'was deployed yet (no deployment succeeded) or the runtime target cannot be reached; healthy when the ' +
        'current set has no workloads.',
    ),
    healthDetail: z
      .string()
      .optional()
      .describe('Why it is not healthy, for people: e.g. `api: crash-looping (5 restarts)`.'),
    /** The runtime target the environment runs on; unreachable targets report no workloads. */
    target: z.object({
      id: z.string(),
      reachable: z.boolean(),
      detail: z.string().optional().describe('Why the target cannot be reached, in its runtime’s words.'),
    }),
    workloads: z.array(
      z.object({
        workload: z.string(),
        state: z.enum(['starting', 'running', 'ready', 'crash-looping', 'stopped']),
        restarts: z.number().int(),
        deploymentId: z.string(),
        ports: z.array(z.object({ name: z.string(), port: z.number().int(), hostPort: z.number().int() })),
        urls: z.array(z.string()),
        routes: z
          .array(z.string())
          .optional()
          .describe(
            "URLs of the workload's `route` resources through Pave's reverse proxy, on the port Pave listens on.",
          ),
        detail: z.string().optional(),
        health: HealthStatus.optional(),
        healthDetail: z.string().optional().describe('Why it is not healthy, for people.'),
        containers: z
          .array(
            z.object({
              name: z.string(),
              state: z
                .string()
                .describe(
                  "The runtime's word for it: `running`, `starting`, `stopped`, `waiting: CrashLoopBackOff`, …",
                ),
              restarts: z.number().int().describe('Restarts since this version of the workload started.'),
              pid: z
                .number()
                .int()
                .optional()
                .describe('Its process id on the host, where the runtime has one.'),
              lastExit: z
                .string()
                .optional()
                .describe('How it last ended, for people: `exited with code 3 at 2026-12-06T20:31:08Z`.'),
            }),
          )
          .optional()
          .describe("The workload's containers as the runtime reports them (older servers send none)."),
      }),
    ),
  })
  .meta({ id: 'EnvironmentStatus' });
export type EnvironmentStatus = z.infer<typeof EnvironmentStatus>;

export const LogsQuery = z.strictObject({
  workload: dnsLabel.optional(),
  tail: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .optional()
    .describe('The last N lines, counted across the selected containers merged by time (default 100).'),
  since: z.iso
    .datetime({
      offset: true,
      message: 'must be an RFC 3339 time such as 2026-12-07T10:00:00Z (the CLI turns --since 1h into one)',
    })
    .optional()
    .describe('Only lines printed at or after this RFC 3339 time.'),
  follow: z.enum(['true', 'false']).optional(),
});

/** One log line, as sent in each Server-Sent Event (`event: log`). */
export const LogEvent = z.object({
  workload: z.string(),
  container: z.string(),
  stream: z.enum(['stdout', 'stderr']),
  at: timestamp,
  line: z.string(),
});
export type LogEvent = z.infer<typeof LogEvent>;
