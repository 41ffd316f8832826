import type { Command } from '../command.js';
import { attemptsCommand } from './attempts-command.js';
import { cleanupCommand } from './cleanup-command.js';
import { configCommand } from './config-command.js';
import { deadCommand } from './dead-command.js';
import { destinationsCommand } from './destinations-command.js';
import { demoCommand } from './demo-command.js';
import { devicesCommand } from './devices-command.js';
import { jobsCommand } from './jobs-command.js';
import { migrateCommand } from './migrate-command.js';
import { publishCommand } from './publish-command.js';
import { runCommand } from './run-command.js';
import { showCommand } from './show-command.js';
import { startCommand } from './start-command.js';
import { statsCommand } from './stats-command.js';

/** Every command of the binary, in help order. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  runCommand,
  migrateCommand,
  statsCommand,
  cleanupCommand,
  deadCommand,
  attemptsCommand,
  showCommand,
  destinationsCommand,
  jobsCommand,
  publishCommand,
  devicesCommand,
  configCommand,
  demoCommand,
];
