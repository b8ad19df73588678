/**
 * Typed command calls from outside a script: `proxy.command('replay.server.count')` resolves
 * with a `number`. Each addon package declares the signatures of its commands by merging into
 * {@link CommandSignatures}:
 *
 * ```ts
 * declare module '@mitmts/sdk' {
 *   interface CommandSignatures {
 *     'myaddon.count': () => number;
 *   }
 * }
 * ```
 *
 * Commands nobody declared still work through the untyped overload (`Promise<unknown>`).
 */
import type { Flow } from '@mitmts/core';

export interface CommandSignatures {
  'proxyserver.active_connections': () => number;
  'inject.websocket': (flow: Flow, to_client: boolean, message: Buffer, is_text?: boolean) => void;
}

/** A command's parameters, each also accepted as a string (parsed by its declared type, as on a command line). */
export type CommandArgs<K extends keyof CommandSignatures> = OrString<Parameters<CommandSignatures[K]>>;

type OrString<P extends readonly unknown[]> = { [I in keyof P]: P[I] | string };

/** What a command resolves with. */
export type CommandResult<K extends keyof CommandSignatures> = Awaited<ReturnType<CommandSignatures[K]>>;
