#!/usr/bin/env node
// `npm start`: the launcher lives in src/launcher (TypeScript, run through tsx like the CLI).
import { register } from 'tsx/esm/api';

register();
await import('../src/launcher/start.ts');
