export {
  FakeResourceDriver,
  type FakeResource,
  type FakeResourceCall,
  type FakeResourceFailingMethod,
  type FakeResourceMethod,
} from './fake-resource-driver.ts';
export {
  FAKE_EXIT_CODE,
  FAKE_NEVER_READY,
  FakeRuntime,
  type FakeRunningWorkload,
  type FakeRuntimeCall,
  type FakeRuntimeFailingMethod,
  type FakeRuntimeMethod,
} from './fake-runtime.ts';
export {
  RESOURCE_CONTRACT_TESTS,
  describeResourceDriverContract,
  testDriverContext,
  type ResourceContractTest,
  type ResourceDriverContractOptions,
} from './resource-contract.ts';
export {
  RUNTIME_CONTRACT_TESTS,
  describeRuntimeDriverContract,
  type RuntimeContractTest,
  type RuntimeDriverContractOptions,
} from './runtime-contract.ts';
export { anyScope, lookAlikeScopes, type NamedScope } from './scope-arbitraries.ts';
