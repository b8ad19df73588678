export * from './flow/state.js';
export { Cert } from './certs/cert.js';
