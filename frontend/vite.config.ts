/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'

// The gateway (`hap up`, default port 8000) serves the API; `npm run dev` proxies to it.
// Unit tests (jsdom) need no CSS: without the per-component style imports Element Plus loads straight from Node.
const elementPlus = ElementPlusResolver({ importStyle: process.env.VITEST ? false : 'css' })
const GATEWAY = process.env.HAP_GATEWAY_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus on demand: components used in templates and the ElMessage/ElMessageBox/ElNotification
    // functions are imported (with their CSS) only where they are used, so they land in the lazy route chunks.
    AutoImport({
      resolvers: [elementPlus],
      dts: 'src/auto-imports.d.ts',
    }),
    Components({
      resolvers: [elementPlus],
      dts: 'src/components.d.ts',
    }),
  ],
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./src', import.meta.url)),
    },
  },
  define: {
    // vue-i18n esm-bundler feature flags: Composition API only, no devtools in production.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __VUE_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // dist/.vite/manifest.json lets scripts/size.mjs find the entry chunk and its static imports.
    manifest: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: GATEWAY, changeOrigin: false },
      '/.well-known': { target: GATEWAY, changeOrigin: false },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/unit/**/*.spec.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    unstubEnvs: true,
    // Element Plus loads its form-validation library in a way that breaks when left external: inline it, so
    // formRef.validate() really validates in unit tests.
    server: { deps: { inline: ['element-plus'] } },
  },
})
