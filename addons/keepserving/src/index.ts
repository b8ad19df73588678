export { KeepServing } from './keepserving.js';
import { KeepServing } from './keepserving.js';
export default KeepServing;
