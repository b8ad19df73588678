export { Intercept } from './intercept.js';
import { Intercept } from './intercept.js';
export default Intercept;
