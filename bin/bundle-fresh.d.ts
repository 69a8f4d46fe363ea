// Types for bundle-fresh.js (plain JS: bin runs it before any TypeScript loader exists).
export declare const BUNDLE: string;
export declare const BUNDLE_INPUTS: readonly string[];
export declare function isFresh(bundle: string, inputs: readonly string[]): boolean;
export declare function bundleIsFresh(root: string): boolean;
