// @ts-check
/**
 * ESLint with typescript-eslint's type-aware rules: this code is mostly
 * promises (Redis, HTTP, sockets, timers), and the rules that need types —
 * no-floating-promises, no-misused-promises, await-thenable — catch the
 * bugs that matter here (a rejected promise nobody handles ends the
 * process). Formatting is Prettier's job (eslint-config-prettier turns off
 * the rules that would fight it). Every file is linted in one TypeScript
 * program (tsconfig.eslint.json); `npm run typecheck` keeps the per-package
 * settings.
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['**/dist/', '**/node_modules/', 'coverage/', 'test-artifacts/', 'bench/results/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program for the whole repository (tsconfig.eslint.json): the project service built one per tsconfig,
        // each typing ioredis, ws and the shared sources again, and lint took ~50 s instead of ~20.
        project: './tsconfig.eslint.json',
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The promise rules are the point of type-aware linting here.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // JSON.parse and test doubles produce `any` by design; strict TypeScript already guards the rest.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Factories here return objects of closures (gateway.writer.encode, scope.close…), which this rule cannot tell from class methods.
      '@typescript-eslint/unbound-method': 'off',
      // ws hands messages over as its RawData union: every `data.toString()` of a text frame would be flagged.
      '@typescript-eslint/no-base-to-string': 'off',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // Tests read ad-hoc JSON answers, and rendered Kubernetes objects are walked defensively (deploy/test/k8s-manifests.ts).
    files: ['**/test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS scripts run by node as they are (tools, build-assets, configs).
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
