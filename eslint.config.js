// ESLint: JavaScript's recommended rules and typescript-eslint's (syntax-only, so a lint of the
// whole repository takes seconds; type-level checks are tsc's job under strict settings).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      'test-artifacts/**',
      '.bench-data/**',
      'templates/*/node_modules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      // Wire formats match control characters on purpose (header values, URLs, tnetstrings).
      'no-control-regex': 'off',
      // node-forge's per-module declarations are one ambient file referenced where it is used.
      '@typescript-eslint/triple-slash-reference': ['error', { path: 'always' }],
      // Hook signatures name parameters an implementation may not use: `_flow` documents them.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  // The web UI and the page scripts of the web benchmark run in the browser.
  { files: ['addons/web/ui/**', 'bench/web.mjs'], languageOptions: { globals: { ...globals.browser } } },
  // Tests may poke at untyped JSON and pin floats that do not round-trip on purpose.
  {
    files: ['**/test/**', 'test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-loss-of-precision': 'off', 'no-regex-spaces': 'off' },
  },
  // Undefined names in TypeScript are tsc's to report (it knows the lib and ambient types).
  { files: ['**/*.ts', '**/*.tsx'], rules: { 'no-undef': 'off' } },
);
