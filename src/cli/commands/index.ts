/** Every subcommand module; each exports `register(program)`. Add new commands here. */
import type { Command } from 'commander';
import * as demo from './demo';
import * as doctor from './doctor';
import * as exportCommand from './export';
import * as importCommand from './import';
import * as serve from './serve';
import * as train from './train';
import * as predict from './predict';
import * as evaluate from './evaluate';
import * as exportModel from './export-model';
import * as addModel from './add-model';
import * as models from './models';
import * as importPredictions from './import-predictions';
import * as copyProject from './copy-project';
import * as segmentLabel from './segment-label';
import * as pacs from './pacs';
import * as user from './user';
import * as audit from './audit';
import * as plan from './plan';
import * as agreement from './agreement';
import * as consensus from './consensus';

export interface CommandModule {
  register(program: Command): void;
}

export const commandModules: CommandModule[] = [
  serve,
  importCommand,
  demo,
  train,
  predict,
  evaluate,
  exportCommand,
  segmentLabel,
  exportModel,
  addModel,
  models,
  importPredictions,
  doctor,
  copyProject,
  pacs,
  user,
  audit,
  plan,
  agreement,
  consensus,
];
