export * from './flow/index.js';
export * from './filter/index.js';
export { Cert } from './certs/cert.js';
