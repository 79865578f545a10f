/**
 * Checks HTTP requests against a Swagger 2.0 document, strictly: the operation must
 * exist, path and query parameters must be declared and well-typed, the body must
 * match its schema with every object closed (a property the document does not declare
 * is an "unknown field"), and the security scheme's header must be present (`apiKey`
 * in a header, or `basic`).
 *
 * Supports the subset of Swagger 2.0 that the Opsgenie document uses: `$ref`, `allOf`,
 * `discriminator` with `x-discriminator-value`, `type`, `enum`, `required`,
 * `properties`, `additionalProperties`, `items`, `minItems`/`maxItems`, `maxLength`,
 * `minimum`/`maximum`, `nullable`.
 */

// deno-lint-ignore no-explicit-any
type Json = any;

export interface Operation {
  method: string;
  /** The path template, e.g. "/v2/alerts/{identifier}/notes". */
  template: string;
  operationId: string;
  /** Path parameter values by name (decoded). */
  params: Record<string, string>;
}

export interface RequestToCheck {
  method: string;
  /** Path as received (percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: Headers;
  /** Parsed JSON body; undefined when there was none; a string when it was not JSON. */
  body: unknown;
}

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  literals: number;
  op: Json;
}

export class OasValidator {
  readonly #doc: Json;
  readonly #routes: Route[] = [];

  constructor(doc: Json) {
    this.#doc = doc;
    for (const [template, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        if (method === "parameters") continue;
        const names: string[] = [];
        const source = template.split("/").map((seg) => {
          const literal = !seg.includes("{");
          const pattern = seg.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_, name) => {
            names.push(name);
            return "([^/]+)";
          });
          return { pattern, literal };
        });
        this.#routes.push({
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${source.map((s) => s.pattern).join("/")}$`),
          names,
          literals: source.filter((s) => s.literal).length,
          op,
        });
      }
    }
    // Literal segments win over parameters (/v2/alerts/requests/{id} before /v2/alerts/{identifier}/…).
    this.#routes.sort((a, b) => b.literals - a.literals);
  }

  /** The operation a request addresses, or null when the document has none. */
  match(method: string, path: string): Operation | null {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => params[name] = decodeURIComponent(m[i + 1]));
      return { method, template: route.template, operationId: route.op.operationId ?? "", params };
    }
    return null;
  }

  /** Every way the request breaks the document (empty when it conforms). */
  check(request: RequestToCheck): string[] {
    const op = this.match(request.method, request.path);
    if (!op) return [`no operation ${request.method} ${request.path} in the document`];
    const route = this.#routes.find((r) => r.method === request.method && r.template === op.template)!;
    const problems: string[] = [];
    problems.push(...this.#checkSecurity(route.op, request.headers));
    const params = (route.op.parameters ?? []).map((p: Json) => this.#resolve(p));
    const declared = new Set(params.filter((p: Json) => p.in === "query").map((p: Json) => p.name));
    for (const key of new Set(request.query.keys())) {
      if (!declared.has(key)) problems.push(`query parameter ${key} is not declared`);
    }
    let bodyParam: Json = null;
    for (const p of params) {
      if (p.in === "path") {
        problems.push(...this.#checkScalar(`path parameter ${p.name}`, p, op.params[p.name]));
      }
      if (p.in === "query") {
        const values = request.query.getAll(p.name);
        if (values.length === 0 && p.required) problems.push(`query parameter ${p.name} is required`);
        if (values.length > 1 && p.type !== "array") problems.push(`query parameter ${p.name} is repeated`);
        for (const v of values) problems.push(...this.#checkScalar(`query parameter ${p.name}`, p, v));
      }
      if (p.in === "body") bodyParam = p;
    }
    if (bodyParam) {
      if (request.body === undefined) {
        if (bodyParam.required) problems.push("body is required");
      } else {
        const type = request.headers.get("content-type") ?? "";
        if (!/^application\/json\b/.test(type)) {
          problems.push(`Content-Type is ${JSON.stringify(type)}, not JSON`);
        }
        if (typeof request.body === "string") problems.push("body is not JSON");
        else problems.push(...this.checkSchema(bodyParam.schema, request.body, "body"));
      }
    } else if (request.body !== undefined) {
      problems.push("operation takes no body");
    }
    return problems;
  }

  /** Checks `value` against `schema` with closed objects; returns the problems found. */
  checkSchema(schema: Json, value: unknown, at: string): string[] {
    const s = this.#flatten(schema);
    if (value === null) return s.nullable ? [] : [`${at} is null`];
    if (s.discriminator && isObject(value)) {
      const sub = this.#subtype(schema, s, value);
      if (typeof sub === "string") return [`${at}: ${sub}`];
      if (sub !== s) return this.checkSchema(sub, value, at);
    }
    const problems: string[] = [];
    const typeProblem = checkType(s.type, value, at);
    if (typeProblem) return [typeProblem];
    if (s.enum && !s.enum.includes(value)) {
      problems.push(`${at} is ${JSON.stringify(value)}, not one of ${s.enum.join(", ")}`);
    }
    if (typeof value === "string" && s.maxLength !== undefined && [...value].length > s.maxLength) {
      problems.push(`${at} is longer than ${s.maxLength} characters`);
    }
    if (typeof value === "number") {
      if (s.minimum !== undefined && value < s.minimum) problems.push(`${at} is below ${s.minimum}`);
      if (s.maximum !== undefined && value > s.maximum) problems.push(`${at} is above ${s.maximum}`);
    }
    if (Array.isArray(value)) {
      if (s.minItems !== undefined && value.length < s.minItems) {
        problems.push(`${at} has fewer than ${s.minItems} items`);
      }
      if (s.maxItems !== undefined && value.length > s.maxItems) {
        problems.push(`${at} has more than ${s.maxItems} items`);
      }
      if (s.items) {
        value.forEach((item, i) => problems.push(...this.checkSchema(s.items, item, `${at}[${i}]`)));
      }
    }
    if (isObject(value) && (s.type === "object" || s.properties || s.additionalProperties)) {
      for (const name of s.required ?? []) {
        if (!(name in value)) problems.push(`${at}.${name} is required`);
      }
      for (const [name, v] of Object.entries(value)) {
        const prop = s.properties?.[name];
        if (prop) problems.push(...this.checkSchema(prop, v, `${at}.${name}`));
        else if (isObject(s.additionalProperties)) {
          problems.push(...this.checkSchema(s.additionalProperties, v, `${at}.${name}`));
        } else if (s.additionalProperties !== true) problems.push(`${at}.${name} is an unknown field`);
      }
    }
    return problems;
  }

  #checkSecurity(op: Json, headers: Headers): string[] {
    const requirements: Json[] = op.security ?? this.#doc.security ?? [];
    const problems: string[] = [];
    for (const requirement of requirements) {
      for (const name of Object.keys(requirement)) {
        const scheme = this.#doc.securityDefinitions?.[name];
        if (scheme?.type === "apiKey" && scheme.in === "header" && !headers.get(scheme.name)) {
          problems.push(`${scheme.name} header missing (security scheme ${name})`);
        }
        if (
          scheme?.type === "basic" && !/^Basic [A-Za-z0-9+/]+=*$/.test(headers.get("authorization") ?? "")
        ) {
          problems.push(`Authorization is not HTTP Basic (security scheme ${name})`);
        }
      }
    }
    return problems;
  }

  #checkScalar(what: string, p: Json, raw: string | undefined): string[] {
    if (raw === undefined) return p.required ? [`${what} is required`] : [];
    const value = p.type === "boolean"
      ? (raw === "true" ? true : raw === "false" ? false : raw)
      : p.type === "integer" || p.type === "number"
      ? (/^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw)
      : raw;
    return this.checkSchema({ ...p, in: undefined, name: undefined, required: undefined }, value, what);
  }

  #resolve(node: Json): Json {
    let n = node;
    for (let depth = 0; n?.$ref && depth < 20; depth++) {
      const ref: string = n.$ref;
      if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
      n = ref.slice(2).split("/").reduce(
        (acc: Json, key) => acc?.[key.replace(/~1/g, "/").replace(/~0/g, "~")],
        this.#doc,
      );
      if (n === undefined) throw new Error(`dangling $ref ${ref}`);
    }
    return n;
  }

  /** Merges `$ref` and `allOf` into one schema (properties and required lists united). */
  #flatten(schema: Json): Json {
    const s = this.#resolve(schema);
    if (!s.allOf) return s;
    const merged: Json = {
      ...s,
      allOf: undefined,
      properties: { ...(s.properties ?? {}) },
      required: [...(s.required ?? [])],
    };
    for (const part of s.allOf) {
      const p = this.#flatten(part);
      Object.assign(merged.properties, p.properties ?? {});
      merged.required.push(...(p.required ?? []));
      for (const key of ["type", "discriminator", "additionalProperties", "nullable"]) {
        if (!(key in merged) && p[key] !== undefined) merged[key] = p[key];
      }
    }
    return merged;
  }

  /**
   * The subtype a discriminated value names: the definition whose `x-discriminator-value`
   * (or name) equals the value's discriminator and whose `allOf` includes the base.
   */
  #subtype(schema: Json, flat: Json, value: Record<string, unknown>): Json | string {
    const tag = value[flat.discriminator];
    if (typeof tag !== "string") return `${flat.discriminator} is required`;
    const base = this.#resolve(schema);
    const baseRef = Object.entries<Json>(this.#doc.definitions).find(([, d]) => d === base)?.[0];
    if (!baseRef) return flat;
    for (const [name, def] of Object.entries<Json>(this.#doc.definitions)) {
      const extendsBase = (def.allOf ?? []).some((p: Json) => p.$ref === `#/definitions/${baseRef}`);
      if (extendsBase && (def["x-discriminator-value"] ?? name) === tag) {
        return { ...def, discriminator: undefined };
      }
    }
    return flat;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkType(type: string | undefined, value: unknown, at: string): string | null {
  const ok = type === undefined ||
    (type === "object" && isObject(value)) ||
    (type === "array" && Array.isArray(value)) ||
    (type === "string" && typeof value === "string") ||
    (type === "boolean" && typeof value === "boolean") ||
    (type === "number" && typeof value === "number") ||
    (type === "integer" && Number.isInteger(value));
  return ok ? null : `${at} must be ${type}, got ${JSON.stringify(value)}`;
}
