// Client-side request validation: the generated validators plus the one rule JSON Schema cannot
// say (a record's providerCred_Key must equal the providerCredKey path parameter).
import { type EntityName, type EntityPathParams, entities } from "../generated/entities.js";
import {
  pathParamValidators,
  recordValidators,
  type ValidationIssue,
} from "../generated/validators.js";

/**
 * Every issue of every record (index, field, reason; never the value). Path parameter issues
 * carry index -1. An empty array means the batch is valid.
 */
export function validateRecords<E extends EntityName>(
  entity: E,
  records: readonly unknown[],
  pathParams?: EntityPathParams<E> | Record<string, unknown>,
): ValidationIssue[] {
  const def = entities[entity];
  const validate = recordValidators[entity];
  if (!def || !validate) throw new TypeError(`validateRecords: unknown entity ${String(entity)}`);
  const issues: ValidationIssue[] = [];
  for (let i = 0; i < records.length; i++) {
    // Fast path allocates nothing; only an invalid record is checked again to collect its issues.
    if (!validate(records[i], i, null)) validate(records[i], i, issues);
  }
  if (def.pathParams.length === 0) return issues;
  const params = pathParams as Record<string, unknown> | undefined;
  if (params === undefined || params === null) {
    issues.push({
      index: -1,
      path: "pathParams",
      message: `are required (${def.pathParams.join(", ")})`,
    });
    return issues;
  }
  const paramIssues: ValidationIssue[] = [];
  pathParamValidators[entity](params, -1, paramIssues);
  for (const issue of paramIssues) issues.push({ ...issue, path: `pathParams.${issue.path}` });
  for (const [param, field] of Object.entries(def.recordFieldForPathParam) as [string, string][]) {
    const expected = params[param];
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as Record<string, unknown> | null;
      if (typeof record !== "object" || record === null) continue;
      const actual = record[field];
      if (actual !== undefined && actual !== null && actual !== expected) {
        issues.push({ index: i, path: field, message: `must equal the ${param} path parameter` });
      }
    }
  }
  return issues.sort((a, b) => a.index - b.index);
}
