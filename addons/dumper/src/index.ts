export { Dumper } from './dumper.js';
import { Dumper } from './dumper.js';
export default Dumper;
