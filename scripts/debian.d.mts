/** The path of `cmd` on PATH, or null. */
export function which(cmd: string): string | null;
/** Whether this process can install Debian packages: root, with apt-get. */
export function canInstall(): boolean;
/** Install Debian packages with apt-get; null on success, else why it failed. */
export function installDebianPackages(
  packages: string[],
  options?: { log?: (line: string) => void; timeoutMs?: number },
): string | null;
/**
 * Paths of `commands` (`{ command: Debian package }`), installing missing packages where this
 * process may; `{ missing }` with the reason where it may not. A failed install throws.
 */
export function ensureCommands(
  commands: Record<string, string>,
  options?: { log?: (line: string) => void; timeoutMs?: number },
): { paths: Record<string, string> } | { missing: string };
