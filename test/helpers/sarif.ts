// Validates a SARIF log against the official OASIS SARIF 2.1.0 JSON Schema (draft-04; the copy
// @microsoft/jest-sarif ships, sarif-2.1.0-rtm.5.json), formats (uri, uri-reference, date-time) enforced.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvDraft04Import from 'ajv-draft-04';
import addFormatsImport from 'ajv-formats';

// CommonJS default exports seen from ESM (as src/crd/schema-validation.ts does for ajv-formats).
const Ajv = AjvDraft04Import as unknown as typeof AjvDraft04Import.default;
const addFormats = addFormatsImport as unknown as typeof addFormatsImport.default;
const require = createRequire(import.meta.url);
const schemaPath = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }); // the schema's language pattern is not valid under the u flag;
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);

export function assertValidSarif(log: unknown): void {
  const ok = validate(log);
  assert.ok(ok, `SARIF 2.1.0 schema violations:\n${(validate.errors ?? []).map((e) => `  ${e.instancePath} ${e.message}`).join('\n')}`);
}
