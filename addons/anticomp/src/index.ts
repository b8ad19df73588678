export { AntiComp } from './anticomp.js';
export { AntiComp as default } from './anticomp.js';
