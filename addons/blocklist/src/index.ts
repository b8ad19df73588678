export { BlockList } from './blocklist.js';
import { BlockList } from './blocklist.js';
export default BlockList;
