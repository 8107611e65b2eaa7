/**
 * The management REST API (`/api/v1`, SPEC "The management plane") as `dzx deploy`
 * uses it: Bearer API key, JSON in and out, errors as `{error: {code, message}}`.
 * A failure becomes one PlatformError naming what was being done.
 */

/** A refused or failed request, as one line naming the asset (`creating tool "greet" (tools/greet.ts)`). */
export class PlatformError extends Error {}

/** How many times a rate-limited request is retried after the platform's Retry-After. */
const RATE_RETRIES = 3;

/** Paged list answers: `{<plural>: [...], nextCursor?}`. */
type Page = Record<string, unknown> & { nextCursor?: string };

/** A REST client for one platform and key. */
export class PlatformClient {
  constructor(
    readonly url: string,
    private readonly key: string,
    private readonly say: (line: string) => void = () => {},
  ) {}

  /** One request; `doing` says what for, e.g. `creating tool "greet" (tools/greet.ts)`. */
  async request<T = any>(method: string, path: string, doing: string, body?: unknown, opts: { allow404?: boolean } = {}): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.url}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${this.key}`, accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        throw new PlatformError(`${doing} failed: cannot reach the platform at ${this.url} (${(err as Error).message}); pass --url or set DZX_URL`);
      }
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (res.ok) return json as T;
      if (res.status === 404 && opts.allow404) return undefined;
      if (res.status === 429 && attempt < RATE_RETRIES) {
        const ms = Number(json?.error?.retryAfterMs) || Number(res.headers.get("retry-after")) * 1000 || 1000;
        this.say(`  (rate limited: waiting ${Math.ceil(ms / 1000)} s)`);
        await Bun.sleep(ms);
        continue;
      }
      throw new PlatformError(`${doing} failed: ${describe(res.status, json, text)}`);
    }
  }

  /** Every item of a paged list (`GET /tools` → its `tools`). */
  async list<T = any>(path: string, plural: string, doing: string): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const page = (await this.request<Page>("GET", `${path}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, doing))!;
      out.push(...((page[plural] as T[]) ?? []));
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }
}

/** A failed answer in one line: status, the platform's code and message, and what to do about a bad key. */
function describe(status: number, json: any, text: string): string {
  const code = typeof json?.error?.code === "string" ? json.error.code : undefined;
  // one line, whatever the platform's message holds (a compiler's message may span several)
  const message = (typeof json?.error?.message === "string" ? json.error.message : text.slice(0, 300)).replace(/\s+/g, " ").trim() || "no details";
  const hint = status === 401 ? " (check --key or DZX_API_KEY: a dwz_ API key of the org)" : "";
  return `${status}${code ? ` ${code}` : ""}: ${message}${hint}`;
}
