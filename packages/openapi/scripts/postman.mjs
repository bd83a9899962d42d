// A Postman collection (v2.1) from the 3.0 bundle with openapi-to-postmanv2, the converter
// Postman's own importer uses. Request bodies come from the spec's examples. Postman gives a
// collection one auth method, so the converter keeps the first security scheme (the API key) as
// collection auth; the finishing step below adds what the spec also requires: the bearer token
// header on the requests whose operation needs it, and the database header as a variable. Every
// value a caller supplies is a collection variable with an empty value: no secret ships.
import { createRequire } from "node:module";

const converter = createRequire(import.meta.url)("openapi-to-postmanv2");

/** Collection variables: name → description. The converter adds baseUrl itself. */
export const VARIABLES = {
  apiKey: "The API key VBA issued to the client, sent as x-api-key.",
  token: "The bearer token: the idToken from POST /user-authentication, valid for up to a day.",
  database: "The VBA database the records are written to (vbasoftware-database header).",
  username: "The VBA user that logs in (POST /user-authentication, HTTP Basic).",
  password: "That user's password (HTTP Basic). Keep it in a Postman environment, not here.",
  clientId: "The client id VBA issued (vbasoftware-client-id header of the login).",
  clientCode: "The client code VBA issued (vbasoftware-client-code header of the login).",
};
const HEADER_VARIABLE = {
  "vbasoftware-database": "database",
  "vbasoftware-client-id": "clientId",
  "vbasoftware-client-code": "clientCode",
};
const METHODS = ["get", "put", "post", "delete", "patch"];

const convert = (doc) =>
  new Promise((resolve, reject) =>
    converter.convertV2(
      { type: "json", data: structuredClone(doc) },
      {
        parametersResolution: "Example",
        folderStrategy: "Tags",
        requestNameSource: "Fallback",
        alwaysInheritAuthentication: true,
        includeAuthInfoInExample: false,
      },
      (err, res) => {
        if (err) reject(err);
        else if (!res?.result) reject(new Error(`openapi-to-postmanv2: ${res?.reason}`));
        else resolve(res.output[0].data);
      },
    ),
  );

const requestsOf = (items) =>
  items.flatMap((i) => (Array.isArray(i.item) ? requestsOf(i.item) : [i]));

/** The operation a Postman request was made from: same method, same path (":x" for "{x}"). */
function operationOf(doc, request) {
  const path = `/${request.url.path.map((s) => s.replace(/^:(.+)$/, "{$1}")).join("/")}`;
  const op = doc.paths?.[path]?.[request.method.toLowerCase()];
  if (!op)
    throw new Error(`postman: request ${request.method} ${path} matches no operation of the spec`);
  return { op, where: `${request.method} ${path}` };
}

export async function toPostman(doc) {
  const collection = await convert(doc);
  const schemes = doc.components?.securitySchemes ?? {};
  const seen = new Set();
  for (const item of requestsOf(collection.item)) {
    const { request } = item;
    const { op, where } = operationOf(doc, request);
    seen.add(where);
    const security = op.security ?? doc.security ?? [];
    const names = Object.keys(security[0] ?? {});
    if (!names.length) request.auth = { type: "noauth" };
    for (const name of names) {
      const s = schemes[name];
      if (s?.type === "http" && s.scheme?.toLowerCase() === "basic") {
        // Request auth replaces the collection's API key auth: the key goes as a header.
        request.auth = {
          type: "basic",
          basic: [
            { key: "username", value: "{{username}}", type: "string" },
            { key: "password", value: "{{password}}", type: "string" },
          ],
        };
        const keyScheme = names.map((n) => schemes[n]).find((x) => x?.type === "apiKey");
        if (keyScheme)
          request.header.push({
            key: keyScheme.name,
            value: "{{apiKey}}",
            description: VARIABLES.apiKey,
          });
      } else if (s?.type === "http" && s.scheme?.toLowerCase() === "bearer")
        request.header.push({
          key: "Authorization",
          value: "Bearer {{token}}",
          description: VARIABLES.token,
        });
      else if (!(s?.type === "apiKey" && s.in === "header"))
        throw new Error(`postman: ${where}: security scheme ${name} (${s?.type}) is not supported`);
    }
    for (const h of request.header) {
      const variable = HEADER_VARIABLE[h.key.toLowerCase()];
      if (variable) h.value = `{{${variable}}}`;
    }
  }
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const missing = ops.filter((o) => !seen.has(o));
  if (missing.length) throw new Error(`postman: no request for ${missing.join(", ")}`);
  collection.variable = [
    ...(collection.variable ?? []).filter((v) => !(v.key in VARIABLES)),
    ...Object.entries(VARIABLES).map(([key, description]) => ({
      key,
      value: "",
      type: "string",
      description,
    })),
  ];
  return collection;
}
