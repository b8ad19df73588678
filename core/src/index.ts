export * from './flow/state.js';
export { Cert } from './certs/cert.js';
export * from './flow/index.js';
export * from './filter/index.js';
export * from './io/index.js';
