export { RunTagger } from './runtag.js';
export { RunTagger as default } from './runtag.js';
