// ESLint (flat config): typescript-eslint with type information, plus the architecture rules of
// STYLE.md enforced as import restrictions (one public entry per lib, apps never import apps).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const APPS = ['gateway', 'secure-store', 'reliable-store', 'edge-store'];
const LIBS = ['platform', 'tenancy', 'catalog', 'data-router', 'messaging', 'runtime', 'idempotency', 'saga'];

const deepLibImport = {
  group: ['\\#polystore/*/**'],
  message: "Import a lib through its public entry, '#polystore/<lib>'.",
};
const relativeLibImport = { group: ['**/libs/**'], message: "Import a lib through '#polystore/<lib>', never by path." };

/** Per-app rule: no import of another app, no path into a lib. */
const appBoundaries = APPS.map((app) => ({
  files: [`apps/${app}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          deepLibImport,
          relativeLibImport,
          { group: APPS.filter((a) => a !== app).map((a) => `**/${a}/**`), message: 'Apps never import other apps.' },
        ],
      },
    ],
  },
}));

/** Per-lib rule: no app, no other lib's internals, no import of its own barrel (cycles). */
const libBoundaries = LIBS.map((lib) => ({
  files: [`libs/${lib}/src/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          deepLibImport,
          { group: ['**/apps/**'], message: 'Libs never import apps.' },
          {
            group: LIBS.filter((l) => l !== lib).map((l) => `**/${l}/src/**`),
            message: "Use '#polystore/<lib>', not another lib's files.",
          },
          {
            group: [`\\#polystore/${lib}`],
            message: 'Inside a lib, import concrete files, not its own index (barrel cycles).',
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**', '.polystore/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Nest decorators and class-validator need classes that look "extraneous" to the rule.
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-console': 'error',
    },
  },
  {
    files: ['**/test/**/*.ts', 'test/**/*.ts'],
    rules: {
      // Tests read JSON bodies loosely; the assertions are the type check.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node, sourceType: 'module' },
    rules: { 'no-console': 'off' },
  },
  ...appBoundaries,
  ...libBoundaries,
);
