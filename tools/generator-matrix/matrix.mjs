// The generator matrix: independent OpenAPI client generators, each fed the bundle it reads best,
// and for each a typed program (written from the spec) that the strict compiler must accept.
// run.mjs is the command line; this module holds the table and the program writer.

/** What the program needs to know about one operation of the spec. */
export function operationsOf(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of ["get", "put", "post", "delete", "patch"]) {
      const op = item?.[method];
      if (!op) continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) =>
        resolve(doc, p),
      );
      const content = op.requestBody?.content ?? {};
      const media = content["application/json"] ?? Object.values(content)[0];
      const ref = media?.schema?.type === "array" ? media.schema.items?.$ref : undefined;
      const entity = typeof ref === "string" ? ref.split("/").pop() : undefined;
      const success = Object.keys(op.responses ?? {}).find((s) => /^2\d\d$/.test(s));
      const example = (m) => {
        if (!m) return undefined;
        if (m.example !== undefined) return m.example;
        const first = Object.values(m.examples ?? {})[0];
        return first === undefined ? undefined : resolve(doc, first).value;
      };
      const okContent = success ? (resolve(doc, op.responses[success]).content ?? {}) : {};
      ops.push({
        where: `${method.toUpperCase()} ${path}`,
        operationId: op.operationId,
        tag: op.tags?.[0] ?? "Default",
        requiredParams: params.filter((p) => p.required).length,
        entity,
        schema: entity ? doc.components.schemas[entity] : undefined,
        records: example(media),
        success,
        result: example(okContent["application/json"] ?? Object.values(okContent)[0]),
      });
    }
  }
  return ops;
}

function resolve(doc, node) {
  let n = node;
  while (n && typeof n.$ref === "string")
    n = n.$ref
      .slice(2)
      .split("/")
      .reduce((o, k) => o?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  return n;
}

const pascal = (s) => s.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_, __, c) => c.toUpperCase());

/**
 * The generators. `spec` is the bundle each reads, `args` its command line, and `op`/`body`/
 * `result` the TypeScript expressions for an operation's function, request body type and
 * success response type in what it emits (imported as `g` from `entry`).
 */
export const GENERATORS = [
  {
    name: "@hey-api/openapi-ts",
    spec: "3.1",
    bin: "openapi-ts",
    args: (spec, out) => ["--input", spec, "--output", out, "--client", "@hey-api/client-fetch"],
    entry: "index.js",
    op: (o) => `g.${o.operationId}`,
    body: (o) => `g.${pascal(o.operationId)}Data["body"]`,
    result: (o) => `g.${pascal(o.operationId)}Responses[${o.success}]`,
  },
  {
    name: "oazapfts",
    spec: "3.1",
    bin: "oazapfts",
    args: (spec, out) => [spec, `${out}/api.ts`],
    entry: "api.js",
    op: (o) => `g.${o.operationId}`,
    // parameters first, in spec order, then the body, then the request options
    body: (o) => `Parameters<typeof g.${o.operationId}>[${o.requiredParams}]`,
    result: (o) =>
      `Extract<Awaited<ReturnType<typeof g.${o.operationId}>>, { status: ${o.success} }>["data"]`,
  },
  {
    name: "openapi-typescript-codegen",
    spec: "3.0",
    bin: "openapi",
    args: (spec, out) => ["--input", spec, "--output", out, "--client", "fetch"],
    entry: "index.js",
    // one service class per tag; the body is the last argument
    op: (o) => `g.${pascal(o.tag)}Service.${o.operationId}`,
    body: (o) => `Last<Parameters<typeof g.${pascal(o.tag)}Service.${o.operationId}>>`,
    result: (o) => `Awaited<ReturnType<typeof g.${pascal(o.tag)}Service.${o.operationId}>>`,
  },
];

const lit = (x) => JSON.stringify(x);
const typesOf = (s) => (s === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);
/** A value of a type the field does not accept. */
const wrongValue = (s) => (typesOf(s).includes("string") ? "1" : '"not-a-valid-value"');

/** The typed program for one generator: compiles only if every operation has the right types. */
export function program(gen, ops) {
  const lines = [
    `// Written by tools/generator-matrix from the spec: checks what ${gen.name} emitted.`,
    `import * as g from "./gen/${gen.entry}";`,
    "",
    "type IsLoose<T> = 0 extends 1 & T ? true : unknown extends T ? true : false;",
    "type Last<T extends unknown[]> = T extends [...unknown[], infer L] ? L : never;",
    "export const operations = [",
    ...ops.map((o) => `  ${gen.op(o)}, // ${o.where}`),
    "];",
    "",
  ];
  for (const [i, o] of ops.entries()) {
    if (!o.entity) continue;
    const first = o.records?.[0];
    if (!first) throw new Error(`${o.where}: the request has no example records to check with`);
    const required = o.schema.required?.[0];
    if (!required) throw new Error(`${o.where}: ${o.entity} has no required field to check with`);
    const { [required]: _, ...withoutRequired } = first;
    const nullable = Object.entries(o.schema.properties ?? {}).find(([, s]) =>
      typesOf(s).includes("null"),
    )?.[0];
    const name = `op${i + 1}_${o.operationId}`;
    lines.push(
      `// ${o.where}: a batch of ${o.entity}`,
      `export namespace ${name} {`,
      `  type Body = ${gen.body(o)};`,
      `  type Result = ${gen.result(o)};`,
      "  export const typed: [IsLoose<Body>, IsLoose<Result>] = [false, false];",
      `  export const records: Body = ${lit(o.records)};`,
      `  // @ts-expect-error a record without its required field ${required} is refused`,
      `  export const missing: Body = [${lit(withoutRequired)}];`,
      `  // @ts-expect-error ${required} of the wrong type is refused`,
      `  export const wrongType: Body = [{ ...${lit(first)}, ${lit(required)}: ${wrongValue(o.schema.properties?.[required])} }];`,
      "  // @ts-expect-error a field the schema does not have is refused",
      `  export const extra: Body = [{ ...${lit(first)}, notInTheSpec: 1 }];`,
      ...(nullable
        ? [`  export const nulls: Body = [{ ...${lit(first)}, ${lit(nullable)}: null }];`]
        : []),
      ...(o.result !== undefined ? [`  export const result: Result = ${lit(o.result)};`] : []),
      "  export const status = (r: Result): number | undefined => r.data?.[0]?.status;",
      "  // @ts-expect-error a record's status is a number",
      "  export const statusText = (r: Result): string | undefined => r.data?.[0]?.status;",
      "}",
      "",
    );
  }
  return lines.join("\n");
}

export const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2023", "DOM", "DOM.Iterable"],
    module: "ESNext",
    moduleResolution: "Bundler",
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  },
  include: ["gen", "check.ts"],
};
