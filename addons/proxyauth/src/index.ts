export { ProxyAuth, parseProxyAuth, parseBasicAuth, authRequired } from './proxyauth.js';
export { htpasswdValidator, type Validator } from './htpasswd.js';
export { apr1 } from './apr1.js';
import { ProxyAuth } from './proxyauth.js';
export default ProxyAuth;
