export * from './dotenv.ts';
export * from './values.ts';
export * from './deployments.ts';
export * from './api.ts';
export * from './client.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './score/index.ts';
