import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

/**
 * The restore portal (issue #16): built from `ui/` into `dist/ui/`, which the server serves at `/ui/`
 * (src/api/ui.ts). Everything is bundled from npm at build time: the page loads nothing from another origin,
 * and no inline script or style, so the server's Content-Security-Policy stays `'self'` only.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  publicDir: false,
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Nothing becomes a data: URI (the CSP allows none) and no inline preload polyfill is needed by a current browser.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
});
