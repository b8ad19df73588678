export { MapLocal } from './maplocal.js';
export { MapLocal as default } from './maplocal.js';
