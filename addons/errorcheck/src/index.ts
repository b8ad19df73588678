export { ErrorCheck } from './errorcheck.js';
import { ErrorCheck } from './errorcheck.js';
export default ErrorCheck;
