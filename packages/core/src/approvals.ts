import { z } from 'zod';
import { NUMERIC_ID_PATTERN, dnsLabel, printableText } from './ids.ts';
import { Deployment, SetDiff } from './deployments.ts';
import { pageLimit, pageOf } from './paging.ts';

/*
 * Four-eyes approvals: a deployment, rollback or promotion into an environment whose type requires approval
 * waits (status `awaiting-approval`) until someone else who may approve it does; the approval's id is the
 * deployment's id.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** A deployment awaiting approval, with what it would change. */
export const Approval = z
  .object({
    id: z.string().describe('The deployment id; `pave approvals approve ID`.'),
    deployment: Deployment,
    envType: z.string().describe("The type of the deployment's environment (approver is held on it)."),
    requestedBy: z.string().describe('Who asked for the deployment; they may not approve it themselves.'),
    requesters: z
      .array(z.string())
      .describe(
        'The users who may not decide it: its requester (for a deployment a rule queued, `rule:<id>`, the ' +
          'rule’s creator) and, for a deployment of an artifact, who pushed it.',
      ),
    runningValuesVersion: z
      .number()
      .int()
      .nullable()
      .optional()
      .describe(
        'The values version the environment runs with now (null: none; absent from servers before it); ' +
          '`deployment.valuesVersion` is the one the deployment will run with, pinned when it was asked for. ' +
          '`diff.values` compares the two.',
      ),
    requestedAt: timestamp,
    expiresAt: timestamp.describe('When it expires unless approved or rejected.'),
    summary: z
      .string()
      .describe('What it would change, in one line, e.g. `update api (containers.main.image); add worker`.'),
    diff: SetDiff.describe(
      "Its planned set against the environment's current one, and the values it will run with against those " +
        'that run now (a secret only says that it changed).',
    ),
  })
  .meta({ id: 'Approval' });
export type Approval = z.infer<typeof Approval>;

/** `GET /approvals`: a page of the deployments awaiting approval, newest first (50 unless `limit` says). */
export const ApprovalListQuery = z.strictObject({
  app: dnsLabel
    .optional()
    .describe("Only this app's pending deployments; default: every app the caller may read."),
  limit: pageLimit('approvals', 50),
  cursor: z
    .string()
    .regex(NUMERIC_ID_PATTERN, { message: 'must be the nextCursor value of a previous page' })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (deployments older than that one).'),
});
export type ApprovalListQuery = z.infer<typeof ApprovalListQuery>;

/** A page of the deployments awaiting approval, newest first; `nextCursor` fetches the next (older) page. */
export const ApprovalPage = pageOf(Approval);
export type ApprovalPage = z.infer<typeof ApprovalPage>;

export const ApprovalParams = z.strictObject({
  id: z.string().regex(NUMERIC_ID_PATTERN, { message: 'must be a deployment id' }),
});

/** Approve a deployment: it is queued and runs. */
export const ApproveBody = z.strictObject({
  comment: printableText({ multiline: true }).max(1000).optional().describe('Why, for the record.'),
});
export type ApproveBody = z.infer<typeof ApproveBody>;

/** Reject a deployment: it never runs; the comment tells the requester why. */
export const RejectBody = z.strictObject({
  comment: printableText({ multiline: true })
    .max(1000)
    .refine((text) => text.trim() !== '', { message: 'say why it is rejected' })
    .describe('Why it is rejected (required).'),
});
export type RejectBody = z.infer<typeof RejectBody>;
