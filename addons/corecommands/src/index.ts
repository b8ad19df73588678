export { Core, FLOW_SET_ATTRIBUTES, ENCODINGS } from './core.js';
export { Comment } from './comment.js';
/** Option values as config.yaml text (the SDK's `formatConfig`). */
export { formatConfig as serializeOptions } from '@mitmts/sdk';
import { Comment } from './comment.js';
import { Core } from './core.js';
/** Both addons, as mitmproxy loads them (`core` first, `comment` later in the chain). */
export default [Core, Comment];
