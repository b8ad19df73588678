export { UpdateAltSvc } from './updatealtsvc.js';
export { rewriteAltSvc } from './altsvc.js';
import { UpdateAltSvc } from './updatealtsvc.js';
export default UpdateAltSvc;
