#!/usr/bin/env node
// Runs the qataseg CLI straight from the TypeScript sources: tsx compiles on the fly, so
// `npx qataseg` works right after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
