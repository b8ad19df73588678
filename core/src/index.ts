import 'reflect-metadata';

export * from './flow/index.js';
export * from './filter/index.js';
export * from './certs/index.js';

export * from './kernel/errors.js';
export { Kernel, type AddonInput, type KernelOptions, type KernelState } from './kernel/kernel.js';
export { Logger, LOG_LEVELS, termLog, type LogListener, type TermLogOptions } from './kernel/log.js';
export { KERNEL, OPTIONS, COMMANDS, LOG, ADDONS, FLOWS } from './kernel/tokens.js';
export { FlowStore } from './kernel/flowstore.js';
export * from './store/index.js';
export { ctx, currentKernel, runWithKernel, enterKernel } from './kernel/context.js';

export { OptionsManager, type ConfigureListener, type ValueSource } from './options/manager.js';
export { CORE_OPTIONS } from './options/core-options.js';
export { readConfigFile, parseConfig, formatConfig, type ConfigFile } from './options/config.js';
export * from './options/types.js';

export { CommandManager, type FlowResolver } from './commands/manager.js';
export { lex, quote } from './commands/lexer.js';
export * from './commands/types.js';

export * from './hooks/hookmap.js';
export * from './hooks/data.js';
export * from './hooks/decorators.js';
export { UNFIRED_HOOKS } from './hooks/unfired.js';
export { handledHooks, looksLikeHook } from './hooks/checks.js';
export { HookDispatcher, HookTable, type AddonRecord } from './hooks/dispatcher.js';

export {
  main,
  applyCommandLine,
  distributionKernel,
  formatOptions,
  formatCommands,
  expandHome,
  type CliIO,
  type Subcommand,
} from './cli/main.js';
export { parseArgs, usageText, optionFlags, type ParsedArgs } from './cli/argv.js';
export { FLAGS, type FlagSpec, type FlagKind } from './cli/flags.js';
export { loadManifest, loadFlowFormats, addonsOf, type Distribution } from './cli/manifest.js';

export { ProxyServer, type ListenAddress } from './proxy/server.js';
export { CLIENT_REPLAY, type ClientReplay } from './proxy/replay.js';
export {
  modeDescription,
  parseMode,
  parseModes,
  parseServerSpec,
  type ProxyMode,
  type ServerSpec,
} from './proxy/modes.js';
export { setUpstreamProxy, type Via } from './proxy/upstream-proxy.js';
export { PROXY_OPTIONS } from './proxy/options.js';
export { parseSize } from './proxy/sizes.js';
export { liveMatcher, LIVE_BODIES_DEFAULT, type LiveMatcher } from './proxy/http/live.js';
export * as http1 from './proxy/http1/index.js';
export { assembleRequest, assembleResponse } from './proxy/http1/assemble.js';
export * as dnswire from './proxy/dns/index.js';
export * from './io/index.js';
