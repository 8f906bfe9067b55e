import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** The portal is built into static files that `pave up` serves at `/` (see scripts/build.mjs). */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:7300' } },
});
