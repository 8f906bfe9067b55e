import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** The portal is built into static files that `pave up` serves at `/` (see scripts/build.mjs). */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // React, and zod with yaml (the Score checks the portal shares with the CLI), each in a chunk of their own:
    // the browser loads them in parallel, and none passes Vite's 500 kB warning.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'schema', test: /node_modules[\\/](zod|yaml)[\\/]/ },
          ],
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:7300' } },
});
