export {
  describeResourceDriverContract,
  testDriverContext,
  type ResourceDriverContractOptions,
} from './resource-contract.ts';
export { describeRuntimeDriverContract, type RuntimeDriverContractOptions } from './runtime-contract.ts';
