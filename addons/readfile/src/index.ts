// Skeleton: the addon lands with its implementation, tests and README.
export {};
