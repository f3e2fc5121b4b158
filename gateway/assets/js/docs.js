// /docs: the gateway's API, rendered from /openapi.json, with a form per
// operation that sends a real request to this gateway (same origin only).

const METHODS = ["get", "post", "put", "patch", "delete"];
const main = document.getElementById("docs");
const status = document.getElementById("docs-status");

/** An element with attributes and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** The schema a `$ref` names. */
function resolve(doc, schema) {
  let seen = 0;
  while (schema && schema.$ref && seen++ < 20) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    schema = doc.components.schemas[name];
  }
  return schema || {};
}

/** A short type for a schema: `string`, `Conversation[]`, `"like" | "dislike"`. */
function typeName(doc, schema) {
  if (!schema) return "any";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.oneOf || schema.anyOf) {
    return (schema.oneOf || schema.anyOf).map((s) => typeName(doc, s)).join(" | ");
  }
  const types = [].concat(schema.type || "object");
  return types
    .map((t) => (t === "array" ? `${typeName(doc, schema.items)}[]` : t))
    .join(" | ");
}

/** A schema as a list of its fields (one level; named types link to their own entry). */
function schemaView(doc, schema) {
  const target = resolve(doc, schema);
  const title = typeName(doc, schema);
  const props = target.properties || {};
  const required = new Set(target.required || []);
  const rows = Object.entries(props).map(([name, prop]) =>
    el("tr", {},
      el("td", {}, el("code", {}, name), required.has(name) ? " *" : ""),
      el("td", {}, el("code", {}, typeName(doc, prop))),
      el("td", {}, prop.description || resolve(doc, prop).description || "")));
  const parts = [el("p", { class: "docs-type" }, el("code", {}, title))];
  if (target.description) parts.push(el("p", {}, target.description));
  if (rows.length) {
    parts.push(el("table", { class: "docs-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "meaning"))),
      el("tbody", {}, rows)));
  }
  if (target.oneOf) {
    parts.push(el("p", {}, "One of: ", target.oneOf.map((s) => typeName(doc, s)).join(", ")));
  }
  return el("div", { class: "docs-schema" }, parts);
}

/** A JSON skeleton for a request body, to start editing from. */
function example(doc, schema, depth = 0) {
  const target = resolve(doc, schema);
  if (depth > 3) return null;
  if (target.enum) return target.enum[0];
  const type = [].concat(target.type || (target.properties ? "object" : "string"))[0];
  if (type === "object") {
    const out = {};
    for (const name of target.required || Object.keys(target.properties || {}).slice(0, 3)) {
      out[name] = example(doc, (target.properties || {})[name], depth + 1);
    }
    return out;
  }
  if (type === "array") return [];
  if (type === "integer" || type === "number") return 0;
  if (type === "boolean") return false;
  return "";
}

let counter = 0;

/** One operation: what it takes, what it answers, and a form to try it. */
function operationView(doc, path, method, op) {
  const id = `op-${counter++}`;
  const params = op.parameters || [];
  const inputs = params.map((p) => {
    const input = el("input", { id: `${id}-${p.name}`, name: p.name, "data-in": p.in, spellcheck: "false" });
    return el("label", { class: "docs-param" },
      el("span", {}, el("code", {}, p.name), ` (${p.in}${p.required ? ", required" : ""}) `,
        el("span", { class: "docs-muted" }, p.description || typeName(doc, p.schema))),
      input);
  });
  const jsonBody = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  const body = jsonBody
    ? el("textarea", { id: `${id}-body`, rows: "6", spellcheck: "false", "aria-label": "Request body (JSON)" })
    : null;
  if (body) body.value = JSON.stringify(example(doc, jsonBody.schema), null, 2);
  const output = el("pre", { class: "docs-output", "aria-live": "polite", tabindex: "0" });
  const send = el("button", { type: "submit" }, "Send");
  const form = el("form", { class: "docs-try" },
    el("h4", {}, "Try it"), inputs, body ? el("label", { class: "docs-param" }, "Body (JSON)", body) : null,
    send, output);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll("input[data-in]")) {
      if (!input.value) continue;
      if (input.dataset.in === "path") url = url.replace(`{${input.name}}`, encodeURIComponent(input.value));
      else if (input.dataset.in === "query") query.set(input.name, input.value);
    }
    if ([...query].length) url += `?${query}`;
    const headers = { Accept: "application/json" };
    const key = document.getElementById("auth-key").value;
    const token = document.getElementById("auth-token").value;
    if (key) headers["X-API-Key"] = key;
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method: method.toUpperCase(), headers, credentials: "same-origin" };
    if (body) {
      headers["Content-Type"] = "application/json";
      init.body = body.value;
    }
    output.textContent = "…";
    try {
      const resp = await fetch(url, init);
      const text = await resp.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON */ }
      output.textContent = `${resp.status} ${resp.statusText}\n\n${shown}`;
    } catch (e) {
      output.textContent = `The request failed: ${e.message}`;
    }
  });

  const responses = Object.entries(op.responses || {}).map(([code, r]) => {
    const content = r.content || {};
    const kinds = Object.entries(content).map(([type, c]) =>
      el("div", {}, el("p", { class: "docs-muted" }, type), c.schema ? schemaView(doc, c.schema) : null));
    return el("li", {}, el("strong", {}, code), " ", r.description || "", kinds);
  });
  const security = (op.security || []).flatMap((s) => Object.keys(s)).filter(Boolean);
  return el("details", { class: "docs-op", id },
    el("summary", {},
      el("span", { class: `docs-method docs-${method}` }, method.toUpperCase()), " ",
      el("code", {}, path), " ", el("span", { class: "docs-summary" }, op.summary || "")),
    op.description ? el("p", {}, op.description) : null,
    security.length ? el("p", { class: "docs-muted" }, `Credentials: ${security.join(", ")}`) : null,
    jsonBody ? [el("h4", {}, "Request body"), schemaView(doc, jsonBody.schema)] : null,
    el("h4", {}, "Answers"), el("ul", { class: "docs-responses" }, responses),
    form);
}

async function start() {
  let doc;
  try {
    const resp = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
    doc = await resp.json();
  } catch (e) {
    status.textContent = `Could not load /openapi.json: ${e.message}`;
    return;
  }
  const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push([path, method, op]);
    }
  }
  const nav = el("nav", { class: "docs-nav", "aria-label": "Sections" },
    el("ul", {}, [...byTag.values()].filter((g) => g.ops.length).map(({ tag }) =>
      el("li", {}, el("a", { href: `#tag-${tag.name}` }, tag.name)))));
  const sections = [...byTag.values()].filter((g) => g.ops.length).map(({ tag, ops }) =>
    el("section", { class: "docs-section", id: `tag-${tag.name}` },
      el("h2", {}, tag.name),
      tag.description ? el("p", {}, tag.description) : null,
      ops.map(([path, method, op]) => operationView(doc, path, method, op))));
  const info = el("p", { class: "docs-muted" }, `${doc.info.title} ${doc.info.version} · OpenAPI ${doc.openapi}`);
  main.replaceChildren(info, nav, ...sections);
  main.setAttribute("aria-busy", "false");
}

start();
