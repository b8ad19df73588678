export * from './flow/state.js';
export * from './certs/index.js';
