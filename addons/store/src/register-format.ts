/**
 * `@mitmts/addon-store/format`: importing it makes store databases readable as flow files
 * (FlowReader, `mitmts flows`, `-r`). Light on purpose: a distribution lists it in
 * `mitmts.flowFormats`, which `mitmts flows` imports before reading anything; the reading code
 * loads with the first store file read.
 */
import { registerFlowFileFormat } from '@mitmts/sdk/formats';
import { storeFlowFormat } from './format.js';

registerFlowFileFormat(storeFlowFormat);

export { storeFlowFormat, SQLITE_MAGIC } from './format.js';
