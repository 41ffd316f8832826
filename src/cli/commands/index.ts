import type { Command } from '../command.js';
import { demoCommand } from './demo-command.js';

/** Every command of the binary, in help order. */
export const COMMANDS: readonly Command[] = [demoCommand];
