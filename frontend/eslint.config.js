// The console's lint rules: ESLint's recommended set, typescript-eslint's
// and eslint-plugin-vue's recommended sets for Vue 3, and nothing that
// Prettier formats (eslint-config-prettier turns those rules off; Prettier
// itself runs as `npm run format:check`).
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'e2e/screenshots/**', 'src/api/schema.d.ts', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser },
    },
    rules: {
      // Single-word names (Home, Login…) are route views, not elements.
      'vue/multi-word-component-names': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'vue/no-v-html': 'error',
      // <AsyncContent v-slot="{ data: customer }"> hands the screen's own
      // value back, known to be there: the same name is meant.
      'vue/no-template-shadow': 'off',
      'vue/block-lang': ['error', { script: { lang: 'ts' } }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['build/**/*.ts', 'e2e/**/*.{ts,mjs}', 'lighthouse/**/*.mjs', 'playwright.config.ts', 'vite.config.ts', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The browser suite reads the REST API's JSON as it comes, and
    // Playwright's fixtures that need no other fixture take an empty pattern.
    files: ['e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-empty-pattern': 'off' },
  },
  prettier,
)
