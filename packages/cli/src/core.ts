// All of @pave/core, for commands to import on demand (`await import('./core.ts')`). Importing core's index
// itself on demand would make esbuild put every core module in one chunk with it, the API client included;
// through this module the client (./api-client.ts) stays a small chunk of its own (see scripts/build.mjs).
export * from '@pave/core';
