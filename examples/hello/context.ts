// Its result is the second argument of every tool. req: { method, url, headers } (header names lower-cased).
export default function createContext(req: { headers: Record<string, string | undefined> }) {
  return {
    requestId: req.headers["x-request-id"],
    userId: req.headers["x-user-id"],
  };
}
