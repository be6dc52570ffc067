/**
 * The app's name and version from package.json. This module sits two folders below the root both
 * in the sources (src/core) and in the bundles (out/main), so one relative path serves both.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const appPackage = require('../../package.json') as { name: string; version: string };
