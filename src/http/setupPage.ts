/**
 * The end-user setup page (issue 17.7): `GET /setup/<token>` shows a form for the
 * secrets the link names; `POST /setup/<token>` stores them as that end user's
 * secrets (sealed like every secret) and never shows them back. No API key: the
 * signed link is the capability.
 *
 * CSRF: the POST must carry the link's token in its body as well as in its path, and
 * only the page itself holds it; a browser's cross-site POST is also refused by its
 * `Sec-Fetch-Site` / `Origin` headers. The page is sent with `Referrer-Policy:
 * same-origin` (the token reaches no other site in a Referer; `no-referrer` would make
 * Chromium send `Origin: null` on the form post), `frame-ancestors 'none'` (no
 * clickjacking), `form-action 'self'` and `no-store`.
 */
import { Elysia } from "elysia";
import { readBounded } from "../boundedBody.ts";
import { setEndUserSecrets } from "../platform/secret.ts";
import { grantServer, setupLinksOf, type SetupGrant } from "../platform/setupLink.ts";
import type { Services } from "../services.ts";
import { requestBaseUrl } from "./baseUrl.ts";

/** The largest form accepted: a few secret values. */
const MAX_FORM_BYTES = 64 * 1024;

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(status: number, title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}label{display:block;margin:1rem 0 .25rem;font-weight:600}input[type=password]{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}button{margin-top:1.5rem;padding:.5rem 1.25rem;font:inherit}.note{color:#555}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;
  return new Response(html, { status, headers: HEADERS });
}

const para = (text: string, cls = "") => `<p${cls ? ` class="${cls}"` : ""}>${escape(text)}</p>`;

/** A token that does not open: tampered or cut short (400), or past its time (410). */
function badLink(problem: "invalid" | "expired" | "gone"): Response {
  if (problem === "expired") return page(410, "This setup link has expired", para("Ask for a new one: call the tool again from your assistant, and open the link its error gives."));
  if (problem === "gone") return page(410, "This setup link no longer applies", para("The server it was made for was deleted or no longer acts for you."));
  return page(400, "This setup link is not valid", para("It was changed or cut short. Open the whole link exactly as it was given, or call the tool again for a new one."));
}

function form(token: string, grant: SetupGrant, serverName: string, problem?: string): Response {
  const fields = grant.names
    .map((n, i) => `<label for="f${i}">${escape(n)}</label><input type="password" id="f${i}" name="secret:${escape(n)}" autocomplete="off" required>`)
    .join("");
  return page(
    problem ? 400 : 200,
    `Set up ${serverName}`,
    `${para(`The tools of "${serverName}" need ${grant.names.length === 1 ? "this value" : "these values"} from you. They are stored encrypted, only for you, and never shown again.`)}` +
      (problem ? `<p role="alert"><strong>${escape(problem)}</strong></p>` : "") +
      `<form method="post" action="/setup/${escape(token)}"><input type="hidden" name="token" value="${escape(token)}">${fields}<button type="submit">Save</button></form>` +
      para(`This link works until ${new Date(grant.expiresAt).toUTCString()}.`, "note"),
  );
}

/** Whether a POST came from a page of this origin (or no browser said otherwise). */
function sameOrigin(request: Request, baseUrl: string): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return false;
  const origin = request.headers.get("origin");
  if (!origin || origin === "null") return !origin;
  return origin === new URL(baseUrl).origin || origin === new URL(request.url).origin;
}

/** Elysia plugin serving the end-user setup page. */
export function setupPage(services: Services) {
  const links = setupLinksOf(services.box, services.config.setupLinkTtlMs);
  const db = services.database.db;
  /** The grant and its server, or the error page. */
  const opened = async (token: string): Promise<{ grant: SetupGrant; serverName: string } | Response> => {
    const grant = links.open(token);
    if ("problem" in grant) return badLink(grant.problem);
    const server = await grantServer(db, grant);
    return server ? { grant, serverName: server.name } : badLink("gone");
  };
  return new Elysia({ name: "dzx/setup-page" })
    .get("/setup/:token", async ({ params }) => {
      const o = await opened(params.token);
      return o instanceof Response ? o : form(params.token, o.grant, o.serverName);
    })
    .post(
      "/setup/:token",
      async ({ params, request }) => {
        if (!sameOrigin(request, requestBaseUrl(services.config, request))) {
          return page(403, "Refused", para("This form can only be sent from its own page. Open the setup link itself and submit the form there."));
        }
        let fields: URLSearchParams;
        try {
          fields = new URLSearchParams(await readBounded(request.body, MAX_FORM_BYTES, () => { throw new RangeError("form too large"); }));
        } catch {
          return page(413, "Refused", para("The form is too large."));
        }
        // the token in the body is what a forged cross-site form cannot know
        if (fields.get("token") !== params.token) return page(403, "Refused", para("This form was not sent with its setup link's token. Open the setup link and submit the form there."));
        const o = await opened(params.token);
        if (o instanceof Response) return o;
        const values: Record<string, string> = {};
        for (const name of o.grant.names) {
          const v = fields.get(`secret:${name}`);
          if (v) values[name] = v;
        }
        const missing = o.grant.names.filter((n) => !(n in values));
        if (missing.length) return form(params.token, o.grant, o.serverName, `Enter a value for ${missing.join(", ")}.`);
        await setEndUserSecrets(db, services.box, o.grant.orgId, o.grant.endUserId, o.grant.serverId, values);
        return page(200, "Saved", para(`Saved ${o.grant.names.join(", ")} for "${o.serverName}". Go back to your assistant and call the tool again.`));
      },
      { parse: "none" },
    );
}
