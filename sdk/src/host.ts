/**
 * `@mitmts/sdk/host`: the machinery of addons that load other addons (the `script` addon runs
 * `-s` scripts as addons of its own): the metadata the decorators record, the records the hook
 * dispatcher keeps, and the hook table that fires them. Writing an ordinary addon needs none of
 * it.
 *
 * @packageDocumentation
 */
export {
  getClassMeta,
  HookTable,
  type ClassMeta,
  type AddonRecord,
  type OptionDecl,
  type CommandDecl,
  type HookDecl,
} from '@mitmts/core';
