/** Moved to src/verify/ (hop cache, source classes, expectations, matrix and findings); kept as the old import path. */
export * from '../verify/index.ts';
