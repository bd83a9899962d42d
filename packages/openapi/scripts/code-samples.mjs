// Adds `x-codeSamples` (shown by Redoc next to each operation) to every operation of the bundle:
// a curl command for every operation, and for each batch upsert the SDK's one-liner.
//
// Everything comes from the spec: the entity is the schema of the request body's array items,
// the function is `upsert<Plural>` (the schema's x-vbapi-plural, else the entity + "s", as the
// domain packages are generated), the package is the operation's x-vbapi-package, path
// parameters become its leading arguments, the records are the operation's request example, the
// headers come from the security schemes and header parameters. A batch operation without
// x-vbapi-package fails the build; the consumer test compiles every sample against the packed
// packages.

/** Shell variables for the values a caller must supply; the SDK reads the same names. */
const ENV = {
  apiKey: "VBAPI_API_KEY",
  bearer: "VBAPI_TOKEN",
  basic: "$VBAPI_USERNAME:$VBAPI_PASSWORD",
  "vbasoftware-database": "VBAPI_DATABASE",
  "vbasoftware-client-id": "VBAPI_CLIENT_ID",
  "vbasoftware-client-code": "VBAPI_CLIENT_CODE",
};

const METHODS = ["get", "put", "post", "delete", "patch"];
const isObj = (x) => typeof x === "object" && x !== null && !Array.isArray(x);

function resolve(doc, node) {
  let n = node;
  for (let i = 0; isObj(n) && typeof n.$ref === "string" && i < 20; i++) {
    n = n.$ref
      .replace(/^#\//, "")
      .split("/")
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((o, k) => (isObj(o) ? o[k] : undefined), doc);
  }
  return n;
}

/** The entity a batch operation upserts (its body is an array of one component schema), or null. */
export function batchEntity(op) {
  const content = op.requestBody?.content ?? {};
  const schema = content["application/json"]?.schema ?? Object.values(content)[0]?.schema;
  const ref = schema?.type === "array" ? schema.items?.$ref : undefined;
  const m = typeof ref === "string" ? /^#\/components\/schemas\/([^/]+)$/.exec(ref) : null;
  return m ? m[1] : null;
}

/** The operation's first request example, or undefined. */
function requestExample(doc, op) {
  const content = op.requestBody?.content ?? {};
  const media = content["application/json"] ?? Object.values(content)[0];
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const first = Object.values(media.examples ?? {})[0];
  return first === undefined ? undefined : resolve(doc, first)?.value;
}

const parametersOf = (doc, item, op) =>
  [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => resolve(doc, p));

/** Sample value of a parameter: its example, else the first of its examples, else a placeholder. */
function paramValue(doc, p) {
  if (p.example !== undefined) return p.example;
  const first = Object.values(p.examples ?? {})[0];
  if (first !== undefined) return resolve(doc, first)?.value;
  return p.schema?.example ?? `<${p.name}>`;
}

const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function curl(doc, path, method, item, op) {
  const server = doc.servers?.[0]?.url ?? "";
  const params = parametersOf(doc, item, op);
  const url = path.replace(/\{([^}]+)\}/g, (_, name) => {
    const p = params.find((x) => x.in === "path" && x.name === name);
    return encodeURIComponent(String(p ? paramValue(doc, p) : `<${name}>`));
  });
  const lines = [`curl -X ${method.toUpperCase()} ${shellQuote(server + url)}`];
  const security = op.security ?? doc.security ?? [];
  const schemes = doc.components?.securitySchemes ?? {};
  for (const name of Object.keys(security[0] ?? {})) {
    const s = resolve(doc, schemes[name]);
    if (s?.type === "apiKey" && s.in === "header") lines.push(`-H "${s.name}: $${ENV.apiKey}"`);
    else if (s?.type === "http" && s.scheme?.toLowerCase() === "bearer")
      lines.push(`-H "Authorization: Bearer $${ENV.bearer}"`);
    else if (s?.type === "http" && s.scheme?.toLowerCase() === "basic")
      lines.push(`-u "${ENV.basic}"`);
    else
      throw new Error(
        `code samples: ${method.toUpperCase()} ${path}: security scheme ${name} (${s?.type}) has no curl form`,
      );
  }
  for (const p of params.filter((x) => x.in === "header")) {
    const env = ENV[p.name.toLowerCase()];
    lines.push(
      env ? `-H "${p.name}: $${env}"` : `-H ${shellQuote(`${p.name}: ${paramValue(doc, p)}`)}`,
    );
  }
  lines.push(`-H 'User-Agent: my-integration/1.0'`);
  const body = requestExample(doc, op);
  const content = op.requestBody?.content ?? {};
  const media = "application/json" in content ? "application/json" : Object.keys(content)[0];
  if (media) {
    lines.push(`-H 'Content-Type: ${media}'`);
    if (body !== undefined)
      lines.push(`--data-binary @- <<'JSON'\n${JSON.stringify(body, null, 2)}\nJSON`);
  }
  return lines.join(" \\\n  ");
}

/** The domain package and function of a batch entity, from the spec. */
function oneLiner(doc, entity, op) {
  const plural = doc.components?.schemas?.[entity]?.["x-vbapi-plural"] ?? `${entity}s`;
  const pkg = op["x-vbapi-package"];
  return { pkg: typeof pkg === "string" ? `@vbapi-sdk/${pkg}` : undefined, fn: `upsert${plural}` };
}

function sdk(doc, entity, item, op) {
  const { pkg, fn } = oneLiner(doc, entity, op);
  const records = requestExample(doc, op);
  if (records === undefined)
    throw new Error(`code samples: ${op.operationId} has no request example`);
  const pathArgs = parametersOf(doc, item, op)
    .filter((p) => p.in === "path")
    .map((p) => JSON.stringify(paramValue(doc, p)));
  const args = ["client", ...pathArgs, JSON.stringify(records, null, 2)].join(", ");
  return [
    `import { createVbapiClient, ${fn} } from "${pkg}";`,
    "",
    `// API key, bearer token and database from ${ENV.apiKey}, ${ENV.bearer}, ${ENV["vbasoftware-database"]}`,
    "const client = createVbapiClient();",
    `const result = await ${fn}(${args});`,
    "for (const item of result.items) console.log(item.index, item.outcome, item.status);",
    "",
  ].join("\n");
}

/**
 * Adds x-codeSamples to every operation of `doc` (in place) and returns one note per operation
 * that has no SDK sample, with the reason.
 */
export function addCodeSamples(doc) {
  const notes = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const samples = [];
      const entity = batchEntity(op);
      const target = entity && oneLiner(doc, entity, op);
      if (target && target.pkg === undefined)
        throw new Error(
          `code samples: ${where} upserts ${entity}, but has no x-vbapi-package naming the @vbapi-sdk package that exports ${target.fn}`,
        );
      if (target)
        samples.push({
          lang: "TypeScript",
          label: target.pkg,
          source: sdk(doc, entity, item, op),
        });
      else notes.push(`${where}: curl only (not a batch upsert: the SDK has no one-liner for it)`);
      samples.push({ lang: "Shell", label: "curl", source: curl(doc, path, method, item, op) });
      op["x-codeSamples"] = samples;
    }
  }
  return notes;
}
