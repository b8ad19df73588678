/**
 * `@mitmts/sdk`: what addon authors and embedders import. Every name is listed here on purpose
 * (sdk/api/sdk.api.md is the report a review sees); the kernel's internals, the CLI and the
 * protocol codecs stay in `@mitmts/core`. The test harness is `@mitmts/sdk/testing`, flow file
 * formats `@mitmts/sdk/formats`, a flow store's building blocks `@mitmts/sdk/store`, the addon
 * host's machinery `@mitmts/sdk/host`, `mitmts new`/`build` `@mitmts/sdk/cli`.
 *
 * @packageDocumentation
 */

/** Writing an addon: decorators, `defineAddon`, the hook map and the hook data types. */
export {
  addon,
  option,
  command,
  hook,
  inject,
  token,
  AddonHalt,
  HOOK_NAMES,
  isHookName,
  looksLikeHook,
  handledHooks,
  UNFIRED_HOOKS,
  type AddonMeta,
  type AddonOrder,
  type AddonInput,
  type AddonHooks,
  type OptionInput,
  type CommandInput,
  type InjectionKey,
  type Token,
  type HookMap,
  type HookName,
  type HookHandler,
  type HookOptions,
  type HookResult,
  type Loader,
  type ConnectionContext,
  type ServerConnectionHookData,
  type NextLayer,
  type LayerName,
  type ClientHello,
  type ClientHelloData,
  type TlsData,
  type QuicTlsData,
  type TlsSettings,
  type Socks5AuthData,
} from '@mitmts/core';
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

/** The kernel's services an addon injects (`@inject(LOG)`) or reaches through `ctx`. */
export {
  ctx,
  Kernel,
  OptionsManager,
  CommandManager,
  Logger,
  FlowStore,
  KERNEL,
  OPTIONS,
  COMMANDS,
  LOG,
  FLOWS,
  type KernelState,
  type LogEntry,
  type LogLevel,
  type LogListener,
  type ConfigureListener,
} from '@mitmts/core';

/** Options and commands: value types, declared signatures, config files. */
export {
  TYPE_DESCRIPTIONS,
  parseConfig,
  formatConfig,
  expandHome,
  type OptionTypeName,
  type OptionValue,
  type OptionValueTypes,
  type OptionSpec,
  type OptionInfo,
  type ConfigFile,
  type ArgSpec,
  type ArgType,
  type ArgObject,
  type ArgValueTypes,
  type CommandInfo,
} from '@mitmts/core';
export type { CoreOptionValues, AddonOptionValues, ProxyOptions } from './options.js';
export type { CommandSignatures, CommandArgs, CommandResult } from './commands.js';

/**
 * Flows and their parts. HTTP messages are `HTTPRequest`, `HTTPResponse` and `HTTPHeaders`
 * (mitmproxy's `http.Request`, `http.Response`, `http.Headers`): named so that they do not
 * shadow the WHATWG `Request`, `Response` and `Headers` globals in user code.
 */
export {
  Flow,
  HTTPFlow,
  Request as HTTPRequest,
  Response as HTTPResponse,
  Headers as HTTPHeaders,
  Message,
  MultiDict,
  MultiDictView,
  CookieAttrs,
  cookies,
  url,
  encoding,
  RESPONSES,
  FlowError,
  Connection,
  Client,
  Server,
  ConnectionStatus,
  WebSocketData,
  WebSocketMessage,
  WebSocketOpcode,
  TCPFlow,
  TCPMessage,
  UDPFlow,
  UDPMessage,
  DNSFlow,
  DNSMessage,
  DNSQuestion,
  DNSResourceRecord,
  DNSType,
  DNSClass,
  DNSOpCode,
  DNSResponseCode,
  dnsTypeName,
  dnswire,
  ipBytes,
  parseContentType,
  isEventStream,
  parseSse,
  SseParser,
  assembleRequest,
  assembleResponse,
  type AnyFlow,
  type FlowType,
  type ReplayKind,
  type RequestInit as HTTPRequestInit,
  type ResponseInit as HTTPResponseInit,
  type HeadersInit as HTTPHeadersInit,
  type HeaderInput,
  type MakeHeaders,
  type MessageInit,
  type StreamSetting,
  type ResponseCookie,
  type SetCookie,
  type MultiDictInit,
  type ContentType,
  type Address,
  type TlsVersionName,
  type TransportProtocol,
  type ClientInit,
  type ServerInit,
  type DNSMessageInit,
  type SseEvent,
  type JsonValue,
  type FlowState,
} from '@mitmts/core';

/** Filters: the `~u`, `~m`, `~d` ... language, compiled once, matched per flow. */
export { parseFilter, matchFilter, matchAll, FILTER_HELP, type Filter, type ParseFilterOptions } from '@mitmts/core';

/** Flow files (`.mitm`, mitmproxy's format) and HAR: reading, writing, converting. */
export {
  FlowReader,
  FlowWriter,
  readFlowsFromPaths,
  readFlowsFromPathsSync,
  encodeFlow,
  flowsToHar,
  flowToHarEntry,
  serializeHar,
  harToFlows,
  Redactor,
  type FlowReaderOptions,
  type FlowWriterOptions,
  type FlowSource,
  type Har,
  type HarEntry,
  type HarExportOptions,
} from '@mitmts/core';

/** Errors an addon throws or catches; each has a stable `code`. */
export {
  MitmtsError,
  OptionsError,
  CommandError,
  FilterError,
  FlowReadError,
  FlowReadErrorCode,
  CertError,
  UrlError,
  ContentEncodingError,
  CharsetError,
  PyRegexError,
  type ErrorCode,
  type FilterErrorCode,
  type CertErrorCode,
} from '@mitmts/core';
export { AddonError } from './wait.js';

/** Certificates: the CA and leaf certificates mitmts makes (onboarding, `export`, `cut`). */
export { CertStore, Cert, caPaths, type CaPaths, type CertStoreOptions } from '@mitmts/core';

/**
 * Values of mitmproxy-compatible options: `/filter/pattern/replacement` specs, Python regular
 * expressions and templates as mitmproxy's options take them, sizes, modes, live bodies;
 * `setUpstreamProxy` routes one flow through an upstream proxy (or directly).
 */
export {
  compilePyPattern,
  compilePyTemplate,
  pyGroup,
  pySub,
  parseMode,
  parseSize,
  setUpstreamProxy,
  liveMatcher,
  type PyPattern,
  type PyTemplate,
  type PyRegexOptions,
  type ProxyMode,
  type Via,
  type LiveMatcher,
} from '@mitmts/core';
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

/** Services one addon offers others by token (client replay, used by `replay.client`). */
export { CLIENT_REPLAY, type ClientReplay } from '@mitmts/core';

/** Embedding a proxy: `createProxy`, the child-process environment, waiting for flows, stub rules. */
export { createProxy, type CreateProxyOptions, type EmbeddedProxy } from './proxy.js';

/** Flow files named by an option or a command (`client_replay`, `replay.server.file`, ...), read the same way in every addon. */
export { withFlowFiles, type FlowFileOrigin } from './flowfiles.js';
export { proxyEnv, type ProxyEnv } from './env.js';
export type { FlowMatcher, WaitForFlowOptions } from './wait.js';
export { Rules, RuleBuilder, type Rule, type RuleMatcher, type PassThroughTransform } from './rules.js';

/** `mitmts run` tags: which run a flow belongs to (the proxy credentials a child is given). */
export { parseRunTag, runTagCredentials, RUN_METADATA, RUN_TAG_USER, type RunTag } from './runtag.js';
