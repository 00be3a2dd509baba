/// <reference types="vitest/config" />
import { readFileSync, existsSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// `make web-dev`: the dev server serves /config.json from the deployed stack (infra/web.sh writes it under
// .local/) and fills the CSP placeholder with the same origins, as the S3 upload does.
const devConfigFile = process.env.WEB_DEV_CONFIG ?? '../.local/web-config.json';

function origins(config: { apiUrl?: string; webSocketUrl?: string }): string {
  return [config.apiUrl, config.webSocketUrl]
    .filter((url): url is string => Boolean(url))
    .map((url) => new URL(url).origin.replace(/^http/, url.startsWith('ws') ? 'ws' : 'http'))
    .join(' ');
}

function devConfig(): Plugin {
  const read = () => (existsSync(devConfigFile) ? JSON.parse(readFileSync(devConfigFile, 'utf8')) : {});
  return {
    name: 'taskapp-dev-config',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/config.json', (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(read()));
      });
    },
    transformIndexHtml(html) {
      // Dev only: Vite's client needs its own websocket and React Refresh an inline preamble; the build needs neither.
      return html
        .replace('__CONNECT_SRC__', `${origins(read())} ws: http://localhost:*`)
        .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'");
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [react(), devConfig()],
  build: { target: 'es2022', sourcemap: false, modulePreload: { polyfill: false } },
  server: { port: Number(process.env.WEB_DEV_PORT ?? 5173), strictPort: true },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
