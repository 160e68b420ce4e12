import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'
import { compileHintsPlugin } from './build/compileHints.ts'
import { CHUNKS as FIRST_SCREEN_CHUNKS, firstScreens } from './build/firstScreens.ts'
import { fontPreloadPlugin } from './build/fontPreload.ts'
import { precompressPlugin } from './build/precompress.ts'
import { primevueRuntimeStylesPlugin, primevueTemplatesPlugin, primevueThemePlugin } from './build/primevueTheme.ts'
import { woff2OnlyPlugin } from './build/woff2Only.ts'
import { crmTheme } from './src/theme.ts'

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))
const first = firstScreens({
  signIn: [src('views/LoginView.vue')],
  home: [src('components/layout/AppShell.vue'), src('views/HomeView.vue')],
})

// The gateway serves the REST API under /api; `npm run dev` forwards it there.
const gateway = `http://${process.env.CRM_HTTP_ADDR ?? '127.0.0.1:8080'}`

export default defineConfig({
  plugins: [
    vue(),
    woff2OnlyPlugin(),
    fontPreloadPlugin(/primeicons-[\w-]+\.woff2$/),
    primevueThemePlugin(crmTheme, fileURLToPath(new URL('./src', import.meta.url))),
    primevueTemplatesPlugin(),
    primevueRuntimeStylesPlugin(),
    first.plugin,
    compileHintsPlugin(FIRST_SCREEN_CHUNKS),
    precompressPlugin(),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    // The console uses neither <i18n-t> nor v-t: their code stays out of the bundle.
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    proxy: {
      '/api': { target: gateway, changeOrigin: false },
      '/healthz': { target: gateway },
    },
  },
  build: {
    chunkSizeWarningLimit: 1500,
    rolldownOptions: { output: { codeSplitting: { groups: first.groups } } },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'build/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
})
