export { ModifyHeaders } from './modifyheaders.js';
export { ModifyHeaders as default } from './modifyheaders.js';
