import { AsyncLocalStorage } from 'node:async_hooks';
import type { CommandManager } from '../commands/manager.js';
import type { OptionsManager } from '../options/manager.js';
import type { Kernel } from './kernel.js';
import type { Logger } from './log.js';

const storage = new AsyncLocalStorage<Kernel>();
let latest: Kernel | undefined;

/** Run `fn` (and everything it starts asynchronously) with `kernel` as the current context. */
export function runWithKernel<T>(kernel: Kernel, fn: () => T): T {
  latest = kernel;
  return storage.getStore() === kernel ? fn() : storage.run(kernel, fn);
}

/** The kernel of the current async context, else the most recently started one. */
export function currentKernel(): Kernel {
  const k = storage.getStore() ?? latest;
  if (!k) throw new Error('ctx is used outside of a running mitmts kernel: create one first (createProxy, or the test harness).');
  return k;
}

/**
 * mitmproxy's `ctx`, for scripts: the options, commands and log of the kernel running the
 * current hook. Two kernels in one process each see their own. Prefer injection in addons.
 */
export const ctx = {
  get kernel(): Kernel {
    return currentKernel();
  },
  get options(): OptionsManager {
    return currentKernel().options;
  },
  get commands(): CommandManager {
    return currentKernel().commands;
  },
  get log(): Logger {
    return currentKernel().log;
  },
};
