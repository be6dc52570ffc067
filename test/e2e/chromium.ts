/** The Chromium Playwright drives: CHROMIUM_PATH, Debian's /usr/bin/chromium, else Playwright's own. */
import fs from 'node:fs';

export function chromiumExecutable(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((candidate) => candidate && fs.existsSync(candidate)) ?? undefined;
}
