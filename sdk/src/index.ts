/**
 * @mitmts/sdk: what addon authors import. Decorators, the typed hook map, flow types, `ctx`,
 * injection tokens, the kernel services, and `createProxy` to embed a proxy. The test harness
 * is `@mitmts/sdk/testing`.
 */
export * from '@mitmts/core';
export { createProxy, type CreateProxyOptions, type EmbeddedProxy } from './proxy.js';
export { parseRunTag, runTagCredentials, RUN_METADATA, RUN_TAG_USER, type RunTag } from './runtag.js';
// Embedding for tests (issue 17, point 5): the child-process environment, waiting for flows,
// addon exceptions, stub rules and typed options.
export { proxyEnv, type ProxyEnv } from './env.js';
export { AddonError, type FlowMatcher, type WaitForFlowOptions } from './wait.js';
export { Rules, RuleBuilder, type Rule, type RuleMatcher, type PassThroughTransform } from './rules.js';
// Flow files named by an option or a command (clientplayback, serverplayback).
export { withFlowFiles, type FlowFileOrigin } from './flowfiles.js';
export type { CoreOptionValues, AddonOptionValues, ProxyOptions } from './options.js';
export type { CommandSignatures, CommandArgs, CommandResult } from './commands.js';
export {
  defineAddon,
  type AddonDefinition,
  type CheckedOption,
  type CommandDefinition,
  type DefinedAddon,
  type DefinedAddonContext,
  type DefinedHooks,
  type OptionDefinition,
  type OptionValues,
} from './define.js';
export {
  parseModifySpec,
  filterOption,
  parseReplacement,
  readReplacement,
  escapedStrToBytes,
  SpecError,
  type ModifySpec,
  type ParseModifySpecOptions,
  type Replacement,
} from './spec.js';
