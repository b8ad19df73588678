export { SaveHar } from './savehar.js';
import { SaveHar } from './savehar.js';
export default SaveHar;
