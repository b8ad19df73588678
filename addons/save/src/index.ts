export { Save } from './save.js';
import { Save } from './save.js';
export default Save;
