/**
 * Hints that send a caller to a management operation (issue 15.7): the
 * operation's name and its REST method and path come from the operation table,
 * so a hint cannot name an operation or a route that does not exist (a
 * hand-written "REST: POST /api/v1/secrets" was a 404; the route is PUT /secrets/:name).
 */
import { operationsByName } from "./table.ts";

/**
 * `<operation> {args} (REST: METHOD /api/v1/path?query with {body})` for the operation `name`, its
 * arguments shown as given and placed as its REST route takes them: path parameters filled in
 * (`{param}` when not given), the body argument or the remaining ones as the JSON body, and on GET
 * and DELETE as the query. Throws on a name the table does not declare (looked up at call time:
 * the table imports modules that print hints).
 */
export function operationHint(name: string, args: Record<string, unknown> = {}): string {
  const op = operationsByName.get(name);
  if (!op) throw new Error(`operationHint: "${name}" is not an operation of the table`);
  const { method, path, body: bodyArg, rename = {} } = op.rest;
  const paramOf = new Map(Object.entries(rename).map(([param, arg]) => [arg, param]));
  const rest = new Map(Object.entries(args).map(([arg, value]) => [paramOf.get(arg) ?? arg, value]));
  const filled = path.replace(/:([A-Za-z_]\w*)/g, (_, param: string) => {
    const value = rest.get(param);
    if (value === undefined) return `{${param}}`;
    rest.delete(param);
    return encodeURIComponent(String(value));
  });
  const hasBody = method !== "GET" && method !== "DELETE";
  let body: unknown;
  if (hasBody && bodyArg) {
    body = rest.get(bodyArg);
    rest.delete(bodyArg);
  } else if (hasBody && rest.size) {
    body = Object.fromEntries(rest);
    rest.clear();
  }
  const query = rest.size ? `?${new URLSearchParams([...rest].map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]))}` : "";
  const shownArgs = Object.keys(args).length ? ` ${JSON.stringify(args)}` : "";
  const shownBody = body === undefined ? "" : ` with ${JSON.stringify(body)}`;
  return `${op.name}${shownArgs} (REST: ${method} /api/v1${filled}${query}${shownBody})`;
}
