export { ModifyBody } from './modifybody.js';
export { ModifyBody as default } from './modifybody.js';
