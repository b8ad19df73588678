export * from '@mitmts/core';
