// Score parsing alone, for commands to import on demand: with it only core's Score schema (and zod) loads,
// not every API schema of ./core.ts.
export { formatScorePath, formatScoreProblem, parseScore } from '@pave/core';
