import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { errorMessage, notify } from './common/notices';
import './styles.css';

// The last net under every request: a rejection no code handled is still said, never silent.
window.addEventListener('unhandledrejection', (event) => {
  notify(`Something failed: ${errorMessage(event.reason)}`);
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
