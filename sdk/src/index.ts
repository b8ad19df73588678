/**
 * @mitmts/sdk: what addon authors import. Decorators, the typed hook map, flow types, `ctx`,
 * injection tokens and the kernel services. The test harness is `@mitmts/sdk/testing`.
 */
export * from '@mitmts/core';
