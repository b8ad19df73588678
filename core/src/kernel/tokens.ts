import type { CommandManager } from '../commands/manager.js';
import { token } from '../hooks/decorators.js';
import type { HookDispatcher } from '../hooks/dispatcher.js';
import type { OptionsManager } from '../options/manager.js';
import type { Kernel } from './kernel.js';
import type { Logger } from './log.js';
import type { FlowStore } from './flowstore.js';

/** Injection tokens for the kernel's services: `constructor(@inject(OPTIONS) o: OptionsManager)`. */
export const KERNEL = token<Kernel>('mitmts.kernel');
export const OPTIONS = token<OptionsManager>('mitmts.options');
export const COMMANDS = token<CommandManager>('mitmts.commands');
/** A Logger scoped to the addon it is injected into. */
export const LOG = token<Logger>('mitmts.log');
/** The addon chain. */
export const ADDONS = token<HookDispatcher>('mitmts.addons');
/** The kernel's flow store. */
export const FLOWS = token<FlowStore>('mitmts.flows');
