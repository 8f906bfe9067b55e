export * from './schema.ts';
export * from './parse.ts';
export * from './placeholders.ts';
export * from './probes.ts';
export * from './resource-order.ts';
