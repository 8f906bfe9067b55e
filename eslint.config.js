// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Import rules that keep the architecture visible: web, cli -> core; plugins -> plugin-api -> core. */
const boundaries = [
  { files: ['packages/core/src/**'], forbid: ['@pave/plugin-api', '@pave/server', '@pave/cli'] },
  { files: ['packages/plugin-api/src/**'], forbid: ['@pave/server', '@pave/cli'] },
  { files: ['packages/server/src/**'], forbid: ['@pave/cli', '@pave/web'] },
  // The server touches the plugins only in its start-up wiring.
  {
    files: ['packages/server/src/**'],
    ignores: [
      'packages/server/src/server.ts',
      'packages/server/src/resource-drivers.ts',
      'packages/server/src/runtimes.ts',
    ],
    forbid: ['@pave/cli', '@pave/web', '@pave/runtime-*', '@pave/resource-*'],
  },
  // The portal talks to Pave only through the API: core's client and types.
  { files: ['packages/web/src/**'], forbid: ['@pave/server', '@pave/cli', '@pave/plugin-api'] },
  { files: ['plugins/*/src/**'], forbid: ['@pave/server', '@pave/cli'] },
  // `pave up` is the one place the CLI starts the server (see packages/cli/src/commands/up.ts).
  {
    files: ['packages/cli/src/**'],
    ignores: ['packages/cli/src/commands/up.ts'],
    forbid: ['@pave/server', '@pave/plugin-api'],
  },
];

export default tseslint.config(
  // Templates' files are Nunjucks templates of other projects, not Pave's code.
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      // A build in progress (or interrupted) writes beside dist first.
      '**/dist.tmp-*/**',
      '**/dist.old-*/**',
      'bench/results/**',
      'test/fixtures/**',
      'packages/server/templates/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bench/*.mjs', 'packages/cli/bin/*.cjs'],
          // The benchmarks and scripts are plain .mjs files outside any tsconfig; there are more than 8.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 20,
        },
      },
    },
    rules: {
      // The bundles shorten class and function names (scripts/build.mjs): a name read at run time is not the
      // one in the source.
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.property.name='constructor'][property.name='name']",
          message:
            'the bundle shortens class names: tell objects apart with instanceof, or by a name they set themselves',
        },
      ],
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
            message: 'crosses a package boundary (see docs/architecture.md, Packages)',
          })),
        },
      ],
    },
  })),
);
