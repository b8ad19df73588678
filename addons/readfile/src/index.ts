export { ReadFile } from './readfile.js';
export { eventSequence, type FlowEvent } from './eventsequence.js';
import { ReadFile } from './readfile.js';
export default ReadFile;
