import type { Kysely } from 'kysely';
import { initial } from './0001_initial.ts';
import { deployments } from './0002_deployments.ts';
import { values } from './0003_values.ts';
import { resources } from './0004_resources.ts';
import { identities } from './0005_identities.ts';
import { auditChain } from './0006_audit_chain.ts';
import { roles } from './0007_roles.ts';
import { runtimeTargets } from './0008_runtime_targets.ts';
import { routeHosts } from './0009_route_hosts.ts';
import { auditKeyAndIncarnations } from './0010_audit_key_and_incarnations.ts';
import { resourceInputs } from './0011_resource_inputs.ts';
import { envTypeMinReady } from './0012_env_type_min_ready.ts';
import { events } from './0013_events.ts';
import { webhooks } from './0014_webhooks.ts';
import { artifacts } from './0015_artifacts.ts';
import { approvals } from './0016_approvals.ts';
import { policies } from './0017_policies.ts';
import { resourceStates } from './0018_resource_states.ts';
import { profiles } from './0019_profiles.ts';
import { templates } from './0021_templates.ts';
import { sso } from './0022_sso.ts';
import { insights } from './0023_insights.ts';
import { deploymentFacts } from './0024_deployment_facts.ts';
import { scaleIndexes } from './0025_scale_indexes.ts';
import { readsByApp } from './0026_reads_by_app.ts';
import { webhookNames } from './0027_webhook_names.ts';
import { deploymentProgress } from './0028_deployment_progress.ts';
import { webhookSealedUrls } from './0029_webhook_sealed_urls.ts';
import { ssoSealedSignIns } from './0030_sso_sealed_sign_ins.ts';
import { restartDeployments } from './0031_restart_deployments.ts';
import { retiredResourceSecrets } from './0032_retired_resource_secrets.ts';
import { rulesByApp } from './0033_rules_by_app.ts';
import { identityLists } from './0034_identity_lists.ts';
import { webhookPreviousSecrets } from './0035_webhook_previous_secrets.ts';
import { workloadArtifacts } from './0036_workload_artifacts.ts';

/** The database engines the store runs on. */
export type StoreEngine = 'sqlite' | 'postgres';

/** One schema change. Landed migrations are never edited: a change is always a new, later migration. */
export interface StoreMigration {
  /** Sortable unique name, `NNNN_what`; the order of execution. */
  name: string;
  up(db: Kysely<unknown>, engine: StoreEngine): Promise<void>;
}

/** Every migration this Pave knows, oldest first. */
export const migrations: readonly StoreMigration[] = [
  initial,
  deployments,
  values,
  resources,
  identities,
  auditChain,
  roles,
  runtimeTargets,
  routeHosts,
  auditKeyAndIncarnations,
  resourceInputs,
  envTypeMinReady,
  events,
  webhooks,
  artifacts,
  approvals,
  policies,
  resourceStates,
  profiles,
  templates,
  sso,
  insights,
  deploymentFacts,
  scaleIndexes,
  readsByApp,
  webhookNames,
  deploymentProgress,
  webhookSealedUrls,
  ssoSealedSignIns,
  restartDeployments,
  retiredResourceSecrets,
  rulesByApp,
  identityLists,
  webhookPreviousSecrets,
  workloadArtifacts,
];
