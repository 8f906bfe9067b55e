// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Import rules that keep the architecture visible: web, cli -> core; plugins -> plugin-api -> core. */
const boundaries = [
  { files: ['packages/core/src/**'], forbid: ['@pave/plugin-api', '@pave/server', '@pave/cli'] },
  { files: ['packages/plugin-api/src/**'], forbid: ['@pave/server', '@pave/cli'] },
  { files: ['packages/server/src/**'], forbid: ['@pave/cli'] },
  { files: ['plugins/*/src/**'], forbid: ['@pave/server', '@pave/cli'] },
  // `pave up` is the one place the CLI starts the server (see packages/cli/src/commands/up.ts).
  {
    files: ['packages/cli/src/**'],
    ignores: ['packages/cli/src/commands/up.ts'],
    forbid: ['@pave/server', '@pave/plugin-api'],
  },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'bench/results/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bench/*.mjs', 'packages/cli/bin/*.js'],
        },
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...boundaries.map(({ files, ignores, forbid }) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbid.map((name) => ({
            group: [name, `${name}/*`],
            message: 'crosses a package boundary (see STYLE.md)',
          })),
        },
      ],
    },
  })),
);
