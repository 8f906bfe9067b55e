/** What a saved Terraform plan would do, counted the way Terraform's own "Plan: …" line counts. */
export interface PlanSummary {
  add: number;
  change: number;
  destroy: number;
  /** Whether applying it changes anything (resources or outputs). */
  changes: boolean;
  /** `+<add> ~<change> -<destroy>`, e.g. "+2 ~1 -0". */
  text: string;
}

interface PlanJson {
  resource_changes?: Array<{ change?: { actions?: string[] } }>;
  output_changes?: Record<string, { actions?: string[] }>;
}

/**
 * Counts the resource changes of `terraform show -json <plan>`: a replacement counts as one to add and one to
 * destroy; reads and no-ops count nothing. Output changes count only towards `changes`.
 */
export function planSummary(plan: unknown): PlanSummary {
  const { resource_changes = [], output_changes = {} } = (plan ?? {}) as PlanJson;
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const resource of resource_changes) {
    const actions = resource.change?.actions ?? [];
    if (actions.includes('create')) add += 1;
    if (actions.includes('delete')) destroy += 1;
    if (actions.includes('update')) change += 1;
  }
  const outputsChange = Object.values(output_changes).some((output) =>
    (output.actions ?? []).some((action) => action !== 'no-op'),
  );
  return {
    add,
    change,
    destroy,
    changes: add + change + destroy > 0 || outputsChange,
    text: `+${add} ~${change} -${destroy}`,
  };
}

/** What a refresh-only plan found changed outside Terraform. */
export interface RefreshFindings {
  /** For people, one line per finding, e.g. "check.database_exists: database shop cannot be reached". */
  lines: string[];
  /** Managed resources the refresh found deleted. */
  deleted: string[];
}

interface RefreshPlanJson {
  resource_drift?: Array<{ address?: string; mode?: string; change?: { actions?: string[] } }>;
  output_changes?: Record<
    string,
    {
      actions?: string[];
      before?: unknown;
      after?: unknown;
      before_sensitive?: unknown;
      after_sensitive?: unknown;
    }
  >;
  checks?: Array<{
    address?: { to_display?: string };
    status?: string;
    instances?: Array<{
      address?: { to_display?: string };
      status?: string;
      problems?: Array<{ message?: string }>;
    }>;
  }>;
}

/**
 * What `terraform show -json` of a refresh-only plan says changed outside Terraform: resources that drifted
 * (changed or deleted), outputs whose values the refresh changed (values shown only when neither is
 * sensitive), and failing `check` blocks (with their messages).
 */
export function refreshFindings(plan: unknown): RefreshFindings {
  const { resource_drift = [], output_changes = {}, checks = [] } = (plan ?? {}) as RefreshPlanJson;
  const lines: string[] = [];
  const deleted: string[] = [];
  for (const drift of resource_drift) {
    const actions = drift.change?.actions ?? [];
    if (actions.every((action) => action === 'no-op' || action === 'read')) continue;
    const address = drift.address ?? 'a resource';
    if (actions.includes('delete') && !actions.includes('create')) {
      if (drift.mode !== 'data') deleted.push(address);
      lines.push(`${address}: deleted outside Terraform`);
    } else {
      lines.push(`${address}: changed outside Terraform (${actions.join(', ')})`);
    }
  }
  for (const [name, output] of Object.entries(output_changes).sort(([a], [b]) => a.localeCompare(b))) {
    if ((output.actions ?? []).every((action) => action === 'no-op')) continue;
    const shown = output.before_sensitive !== true && output.after_sensitive !== true;
    lines.push(
      shown
        ? `output ${name}: ${JSON.stringify(output.before)} -> ${JSON.stringify(output.after)} on refresh`
        : `output ${name}: changed on refresh`,
    );
  }
  for (const check of checks) {
    if (check.status !== 'fail' && check.status !== 'error') continue;
    const problems = (check.instances ?? []).flatMap((instance) =>
      (instance.problems ?? []).map(
        (problem) =>
          `${instance.address?.to_display ?? check.address?.to_display}: ${problem.message ?? check.status}`,
      ),
    );
    lines.push(
      ...(problems.length ? problems : [`${check.address?.to_display ?? 'a check'}: ${check.status}`]),
    );
  }
  return { lines, deleted };
}
