export { AntiCache } from './anticache.js';
export { AntiCache as default } from './anticache.js';
