import type { CommandManager } from '../commands/manager.js';
import type { OptionsManager } from '../options/manager.js';
import type { Kernel } from './kernel.js';
import type { Logger } from './log.js';
import { registry } from './registry.js';

/**
 * Make `kernel` the current context for `ctx` and run `fn`. The kernel sets itself current
 * whenever it dispatches a hook, so `ctx` inside a hook is that hook's kernel.
 *
 * Deliberately not AsyncLocalStorage: on Node 20 it turns on promise hooks for the whole
 * process, which costs every promise on the proxy's hot path. The price: with two kernels in
 * one process, `ctx` read after an `await` inside a hook may see the other kernel. Addons that
 * live next to other kernels use injection (`@inject(OPTIONS)`), which is always exact.
 */
export function runWithKernel<T>(kernel: Kernel, fn: () => T): T {
  registry.currentKernel = kernel;
  return fn();
}

/** Set the current kernel (the dispatcher calls this before each hook). */
export function enterKernel(kernel: Kernel): void {
  registry.currentKernel = kernel;
}

/** The kernel that most recently dispatched a hook or ran start-up work. */
export function currentKernel(): Kernel {
  // Process-wide (the registry): a script's `ctx` from another copy of @mitmts/core sees it too.
  const current = registry.currentKernel as Kernel | undefined;
  if (!current)
    throw new Error(
      'ctx is used outside of a running mitmts kernel: create one first (createProxy, or the test harness).',
    );
  return current;
}

/**
 * mitmproxy's `ctx`, for scripts: the options, commands and log of the kernel running the
 * current hook. Prefer injection in addons.
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
