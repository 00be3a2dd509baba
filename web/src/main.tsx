import { createRoot } from 'react-dom/client';
import { App } from './App';
import type { AppConfig } from './types';
import './styles.css';

// The API and WebSocket URLs come from config.json, written beside the app at upload time (infra/web.sh), so one
// build serves every stack.
async function start(): Promise<void> {
  const root = createRoot(document.getElementById('root') as HTMLElement);
  try {
    // Preloaded by index.html; S3 serves it no-cache, so a new upload is seen at once.
    const response = await fetch('./config.json');
    if (!response.ok) throw new Error(`config.json answered ${response.status}`);
    const config = (await response.json()) as AppConfig;
    if (!config.apiUrl) throw new Error('config.json names no apiUrl');
    root.render(<App config={config} />);
  } catch (error) {
    root.render(
      <main className="centered">
        <h1>TaskApp</h1>
        <p role="alert" className="error">
          The app could not load its configuration: {(error as Error).message}
        </p>
      </main>,
    );
  }
}

void start();
