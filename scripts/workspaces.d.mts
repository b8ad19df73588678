/** The repository root (absolute, with a trailing slash). */
export const ROOT: string;
export interface Workspace {
  /** Absolute directory. */
  readonly dir: string;
  readonly pkg: { readonly name: string; readonly version: string; readonly private?: boolean } & Readonly<Record<string, unknown>>;
}
/** Every workspace of the root package.json. */
export function workspaces(): Workspace[];
/** The workspaces that are published (not `private`). */
export function publishable(): Workspace[];
/** Copy the root LICENSE into every publishable workspace. */
export function copyLicenses(): void;
/** What `npm pack --json` reports for one tarball. */
export interface PackReport {
  readonly name: string;
  readonly version: string;
  readonly filename: string;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}
/** `npm pack` every publishable workspace into `dest`. */
export function packAll(dest: string, env?: NodeJS.ProcessEnv): PackReport[];
