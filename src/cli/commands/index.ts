/** Every subcommand module; each exports `register(program)`. Add new commands here. */
import type { Command } from 'commander';
import * as doctor from './doctor';
import * as serve from './serve';

export interface CommandModule {
  register(program: Command): void;
}

export const commandModules: CommandModule[] = [serve, doctor];
