/**
 * `@mitmts/sdk/formats`: what a package needs to add a flow file format (see core's
 * io/formats.ts), without loading the rest of mitmts. `mitmts flows` imports the distribution's
 * format modules before it reads anything, so they must stay this light: a format loads its
 * reading code in `prepare()`.
 */
export {
  registerFlowFileFormat,
  flowFileFormatOf,
  prepareFlowFile,
  type FlowFile,
  type FlowFileFormat,
} from '@mitmts/core/io/formats';
export { FlowReadError, FlowReadErrorCode, type FlowReadErrorDetails } from '@mitmts/core/io/errors';
