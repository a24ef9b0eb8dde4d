// ESLint (flat config): typescript-eslint with type information, plus the architecture rules of
// STYLE.md enforced as import restrictions (one public entry per lib, apps never import apps).
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every app and lib in the tree: a new one is covered by the boundaries without editing this file. */
const folders = (dir) =>
  readdirSync(new URL(`./${dir}/`, import.meta.url), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
const APPS = folders('apps');
const LIBS = folders('libs');
/** Apps that compose others (one process running them all, an operator CLI): through their public entry only. */
const COMPOSERS = ['quickstart', 'cli'];

const deepLibImport = {
  group: ['\\#polystore/*/**'],
  message: "Import a lib through its public entry, '#polystore/<lib>'.",
};
const relativeLibImport = { group: ['**/libs/**'], message: "Import a lib through '#polystore/<lib>', never by path." };

/**
 * Per-app rule: no path into a lib; no import of another app, except that the composing apps
 * (quickstart, CLI) may import another app's public entry, `apps/<app>/src/index.ts`.
 */
const appBoundaries = APPS.map((app) => {
  const others = APPS.filter((a) => a !== app);
  const otherApps = COMPOSERS.includes(app)
    ? {
        regex: `(^|/)(${others.join('|')})/(?!src/index\\.js$)`,
        message: "Import another app only through its public entry, 'apps/<app>/src/index.js'.",
      }
    : { group: others.map((a) => `**/${a}/**`), message: 'Apps never import other apps.' };
  return {
    files: [`apps/${app}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [deepLibImport, relativeLibImport, otherApps] }],
    },
  };
});

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
      // Nest decorators (modules, response DTOs) need classes that look "extraneous" to the rule.
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
