export { __Name__ } from './__name__.js';
export { __Name__ as default } from './__name__.js';
