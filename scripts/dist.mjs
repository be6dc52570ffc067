#!/usr/bin/env node
// `npm run dist`: the launcher lives in src/launcher (TypeScript, run through tsx like the CLI).
import { register } from 'tsx/esm/api';

register();
await import('../src/launcher/dist.ts');
