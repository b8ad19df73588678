import type { CommandManager } from '../commands/manager.js';
import { sharedToken } from '../hooks/decorators.js';
import type { HookDispatcher } from '../hooks/dispatcher.js';
import type { OptionsManager } from '../options/manager.js';
import type { Kernel } from './kernel.js';
import type { Logger } from './log.js';
import type { FlowStore } from './flowstore.js';

/**
 * Injection tokens for the kernel's services: `constructor(@inject(OPTIONS) o: OptionsManager)`.
 * Shared by every copy of @mitmts/core in the process (see `sharedToken`).
 */
export const KERNEL = sharedToken<Kernel>('mitmts.kernel');
export const OPTIONS = sharedToken<OptionsManager>('mitmts.options');
export const COMMANDS = sharedToken<CommandManager>('mitmts.commands');
/** A Logger scoped to the addon it is injected into. */
export const LOG = sharedToken<Logger>('mitmts.log');
/** The addon chain. */
export const ADDONS = sharedToken<HookDispatcher>('mitmts.addons');
/** The kernel's flow store. */
export const FLOWS = sharedToken<FlowStore>('mitmts.flows');
