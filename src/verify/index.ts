/** `verify`: who can reach which Knative Service on every path, as rows and as findings. */
export { hopRequest, Verifier, type HopResult, type PathOutcome } from './hop-cache.ts';
export { classifyTarget, SourceClass, variantsOf, type TargetPaths } from './source-classes.ts';
export { expectation, pick, statedExpectations, unitOf, type Expectation, type StatedExpectation } from './expectations.ts';
export { eventingPaths, type EventingRow, type EventingVia } from './eventing.ts';
export { explain, requiredEdgeRows, toRow, verifyModel, type EdgeRow, type MatrixRow, type VerifyReport } from './matrix.ts';
