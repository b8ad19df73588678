export { Block } from './block.js';
import { Block } from './block.js';
export default Block;
