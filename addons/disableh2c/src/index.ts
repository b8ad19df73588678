export { DisableH2C } from './disableh2c.js';
import { DisableH2C } from './disableh2c.js';
export default DisableH2C;
