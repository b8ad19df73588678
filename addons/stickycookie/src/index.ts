export { StickyCookie } from './stickycookie.js';
export { CookieJar } from './jar.js';
export { StickyCookie as default } from './stickycookie.js';
