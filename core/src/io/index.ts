/**
 * Flow files: mitmproxy-compatible `.mitm` (tnetstring, format 21, older formats migrated on
 * read) and HAR.
 */
export {
  FlowReadError,
  FlowReadErrorCode,
  TnetstringDepthError,
  TnetstringError,
  type FlowReadErrorDetails,
} from './errors.js';
export * as tnetstring from './tnetstring.js';
export { TnetFloat, type TnetValue } from './tnetstring.js';
export { pyFloatRepr, parsePyFloat } from './pyfloat.js';
export { encodeFlowState } from './state-schema.js';
export { FlowRecordEncoder, type CutBodies } from './flow-encoder.js';
export { checkFlowState } from './state-check.js';
export {
  migrateFlowState,
  migrateStep,
  setFastMigration,
  MigrationContext,
  MIGRATABLE_VERSIONS,
  UnsupportedVersionError,
} from './migrations.js';
export {
  FlowReader,
  readStates,
  readStatesSync,
  readFlowsFromPaths,
  readFlowsFromPathsSync,
  readFlowsForOption,
  type FlowReaderOptions,
  type FlowSource,
} from './reader.js';
export {
  registerFlowFileFormat,
  flowFileFormatOf,
  prepareFlowFile,
  type FlowFile,
  type FlowFileFormat,
} from './formats.js';
export {
  FlowWriter,
  FilteredFlowWriter,
  encodeFlow,
  WRITABLE_FORMATS,
  type WritableFormat,
  type FlowSink,
  type FlowWriterOptions,
} from './writer.js';
export { downgradeTo17, encodeFlowState17, FLOW_FORMAT_17 } from './downgrade.js';
export { harToFlows, harToFlowStates, parseIsoTimestamp } from './har-import.js';
export {
  flowsToHar,
  flowToHarEntry,
  serializeHar,
  isoTimestamp,
  isMostlyBinary,
  type Har,
  type HarEntry,
  type HarRequest,
  type HarResponse,
  type HarContent,
  type HarCookie,
  type HarTimings,
  type HarNameValue,
  type HarWebSocketMessage,
  type HarExportOptions,
} from './har-export.js';
export {
  FlowFields,
  FLOW_FIELDS,
  DEFAULT_FIELDS,
  UnknownFieldError,
  bodyJson,
  type BodyJson,
  type JsonValue,
  type FlowJsonOptions,
} from './flow-json.js';
export { SummaryCounter, type FlowSummary, type SummaryTable } from './flow-summary.js';
export { runFlowsCommand, parseFlowsArgs, FLOWS_HELP } from './flows-command.js';
export { CONVERT_HELP } from './convert-command.js';
export { Redactor, isSecretName, redactText } from './recon/redact.js';
export { pathTemplate, isIdSegment } from './recon/endpoints.js';
export { Shape } from './recon/shape.js';
export { SseParser, parseSse, isEventStream, type SseEvent } from './sse.js';
