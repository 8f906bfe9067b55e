/** This Pave's version, reported by the API and the CLI. */
export const PAVE_VERSION = '0.1.0';
