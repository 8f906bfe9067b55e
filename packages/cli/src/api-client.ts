// The API client alone, for commands to import on demand: `@pave/core`'s index would bring every schema (and
// zod) with it, which a command that only calls the API does not need. The build marks core's modules free of
// side effects (scripts/build.mjs), so this chunk holds the client and nothing it does not import.
export { ConnectionError, PaveClient } from '@pave/core';
