export * from './flow/index.js';
export * from './filter/index.js';
export * from './io/index.js';
export { Cert } from './certs/cert.js';
