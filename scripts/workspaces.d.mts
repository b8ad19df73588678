/** The repository root (absolute, with a trailing slash). */
export const ROOT: string;
/** The package.json fields the repository's tools read. */
export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly type?: string;
  readonly files?: readonly string[];
  readonly engines?: { readonly node?: string };
  readonly publishConfig?: { readonly access?: string };
  readonly bin?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
  /** The CLI's manifest of default addons. */
  readonly mitmts?: { readonly addons: readonly string[] };
}
export interface Workspace {
  /** Absolute directory. */
  readonly dir: string;
  readonly pkg: PackageJson;
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
