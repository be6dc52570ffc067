/**
 * Child process of project-lock.test.ts: opens a project for writing, prints `open`, and holds it
 * until its stdin ends (then closes it, or with `--no-close` just exits).
 */
import { ProjectStore } from '../../src/core/project/store';

const [projectDir, mode] = process.argv.slice(2);
const store = ProjectStore.open(projectDir, { command: 'project-lock-child' });
process.stdout.write('open\n');
process.stdin.resume();
process.stdin.on('end', () => {
  if (mode !== '--no-close') store.close();
  process.exit(0);
});
