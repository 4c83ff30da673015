// `npm run lint`: typescript-eslint's recommended rules over the project's TypeScript;
// layout is Prettier's (prettier.config.mjs), import direction dependency-cruiser's.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'src/generated/', 'test/generated/', 'web/src/generated/', 'bench/results/', 'bench/work/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
      // An initialiser that every branch overwrites still says what the variable holds.
      'no-useless-assignment': 'off',
    },
  },
  // The web console runs in the browser.
  { files: ['web/src/**'], languageOptions: { globals: globals.browser } },
);
