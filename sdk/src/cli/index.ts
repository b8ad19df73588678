/**
 * `@mitmts/sdk/cli`: the distribution subcommands `new` (scaffold from templates) and `build`
 * (bundle a manifest into one runnable file), as functions. Nothing here loads esbuild until a
 * build runs.
 */
export { newCommand, scaffold, names, TEMPLATE_KINDS, type ScaffoldOptions, type TemplateKind } from './new.js';
export {
  buildCommand,
  buildProxy,
  entrySource,
  installationNodePaths,
  readManifest,
  type BuildManifest,
  type BuildProxyOptions,
  type BuildProxyResult,
} from './build.js';
export { runCommand, splitRunArgv, runEnvironment, shellLine, RUN_HELP, type RunArgs } from './run.js';
