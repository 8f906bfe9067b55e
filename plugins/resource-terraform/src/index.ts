export {
  TerraformDriver,
  terraformId,
  type TerraformDriverConfig,
  type TerraformDriverDeps,
} from './terraform.ts';
export { DEFAULT_TERRAFORM_TIMEOUT_SECONDS, expandPlaceholders } from './settings.ts';
export { TerraformError } from './workspace.ts';
export { planSummary, refreshFindings, type PlanSummary, type RefreshFindings } from './plan.ts';
