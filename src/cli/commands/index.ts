/** Every subcommand module; each exports `register(program)`. Add new commands here. */
import type { Command } from 'commander';
import * as demo from './demo';
import * as doctor from './doctor';
import * as exportCommand from './export';
import * as importCommand from './import';
import * as serve from './serve';

export interface CommandModule {
  register(program: Command): void;
}

export const commandModules: CommandModule[] = [serve, importCommand, demo, exportCommand, doctor];
