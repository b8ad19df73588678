export { MapRemote } from './mapremote.js';
export { MapRemote as default } from './mapremote.js';
