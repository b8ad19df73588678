export { UpstreamAuth, parseUpstreamAuth } from './upstreamauth.js';
export { UpstreamAuth as default } from './upstreamauth.js';
