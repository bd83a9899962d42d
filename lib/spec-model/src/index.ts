// @vbapi-sdk/tool-spec-model: what the tools know about reading a bundled OpenAPI document.
export { asArray, isObject, type Json, type JsonObject, SpecError } from "./json.ts";
export {
  type BatchOperation,
  findBatchOperations,
  HTTP_METHODS,
  type OperationParameter,
} from "./operations.ts";
export {
  type Followed,
  followRefs,
  inlineRefs,
  pointerTokens,
  resolvePointer,
  resolveRef,
} from "./refs.ts";
