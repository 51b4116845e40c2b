// Lint: typescript-eslint's recommended rules, type-aware where it catches real bugs (a promise nobody awaits), import
// cycles between modules, no unused code. Formatting is Prettier's (.prettierrc.json: 140 columns, which also bounds line
// length); `npm run lint` runs both, `npm run format` applies Prettier.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/compliance/baseline/**', 'test/fixtures/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Which files import-x parses (and with which parser) to follow imports: the TypeScript ones.
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      // `./x.js` in an import is `./x.ts` in the tree (NodeNext resolution).
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // A promise nobody awaits loses its rejection: await it, or `void` it on purpose with a comment saying why.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test runs what describe() and test() register; their promises are the runner's to await.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'suite', 'test', 'it'] }],
        },
      ],
      // A variable a callback reads, assigned once the thing it belongs to exists, stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Type-only imports are erased: they cannot make a module load before its dependency.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Comments and strings Prettier does not wrap; code lines are Prettier's to keep within 140 columns.
      'max-len': ['warn', { code: 140, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    // The console (web/, its own tsconfig and build): the same unused-code rule, without type information.
    files: ['**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests pass `any`-typed SDK responses around and assert on them; the rule stays on for src/.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
