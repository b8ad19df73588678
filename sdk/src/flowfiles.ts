/**
 * Reading the flow files an option or a command names (`client_replay`, `server_replay`,
 * `replay.client.file`, ...), the same way in every addon.
 */
import { type AnyFlow, CommandError, expandHome, OptionsError, readFlowsForOption } from '@mitmts/core';

/** Who named the flow files: an option, or a command's argument. Errors say which. */
export type FlowFileOrigin = { readonly option: string } | { readonly command: string };

/**
 * Read every flow of the files `paths` names and hand them to `use`, all at once: `~` is the
 * home directory, each file's format is picked by its first bytes (`.mitm`, or a registered
 * format such as the store's SQLite file), and a file that is missing or damaged fails the whole
 * read with an {@link OptionsError} naming the option (`client_replay: cannot read flows from
 * ...`), or a {@link CommandError} for a command, before `use` runs: nothing half-read is used.
 *
 * `use` runs before this returns when every file reads synchronously. When a file is in a
 * format whose reader loads asynchronously (a store database), this returns a promise that
 * settles once `use` ran: return it from `configure` or from the command, so that start-up
 * waits for it and its error reaches the user.
 *
 * @example
 * ```ts
 * configure(updated: ReadonlySet<string>): void | Promise<void> {
 *   if (updated.has('client_replay')) return withFlowFiles(this.client_replay, { option: 'client_replay' }, (flows) => this.replay(flows));
 * }
 * ```
 */
export function withFlowFiles(
  paths: readonly string[],
  origin: FlowFileOrigin,
  use: (flows: AnyFlow[]) => void,
): void | Promise<void> {
  const fail = (err: unknown): never => {
    const message = err instanceof Error ? err.message : String(err);
    throw 'option' in origin ? new OptionsError(`${origin.option}: ${message}`) : new CommandError(message);
  };
  let flows: AnyFlow[] | Promise<AnyFlow[]>;
  try {
    flows = readFlowsForOption(paths.map(expandHome));
  } catch (err) {
    return fail(err);
  }
  if (Array.isArray(flows)) return use(flows);
  return flows.then(use, fail);
}
