// Lint: typescript-eslint with type information, plus the architecture's import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Pure folders (functional core): no file system, network or process I/O, and nothing from the shell.
const PURE = [
  'src/api/types.ts',
  'src/model/**',
  'src/flavors/**',
  'src/render/**',
  'src/authz/**',
  'src/verify/**',
  'src/check/**',
  'src/migrate/**',
  'src/report/**',
];
const IO_MODULES = [
  'fs',
  'fs/promises',
  'child_process',
  'net',
  'http',
  'https',
  'http2',
  'tls',
  'dgram',
  'dns',
  'worker_threads',
  'cluster',
  'readline',
  'process',
];

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'coverage', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  {
    rules: {
      // Raw Kubernetes JSON is handled as `unknown` and narrowed; where a test pokes into objects, `any` is allowed.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // node:test's describe/it return promises the runner itself awaits.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: PURE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.flatMap((m) => [
            { name: m, message: 'pure module: no I/O (functional core); do it in cluster/, controller/ or cli/' },
            { name: `node:${m}`, message: 'pure module: no I/O (functional core); do it in cluster/, controller/ or cli/' },
          ]),
          patterns: [
            {
              group: ['**/cluster/**', '**/controller/**', '**/cli/**'],
              message: 'pure module: must not import the imperative shell (cluster/, controller/, cli/)',
            },
            { group: ['@kubernetes/client-node'], allowTypeImports: true, message: 'pure module: client-node types only' },
          ],
        },
      ],
    },
  },
);
