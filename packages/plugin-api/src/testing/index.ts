export {
  describeResourceDriverContract,
  testDriverContext,
  type ResourceDriverContractOptions,
} from './resource-contract.ts';
