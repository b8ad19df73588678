export { StickyAuth } from './stickyauth.js';
export { StickyAuth as default } from './stickyauth.js';
