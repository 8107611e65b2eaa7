/**
 * HTTP/1.1 over a raw TCP socket, for requests fetch will not send (CONNECT,
 * TRACE, odd methods, a declared length larger than the bytes sent).
 */

/** What came back: status, lower-cased headers, body; `timedOut` when the answer did not end in time. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  timedOut: boolean;
}

/** Sends `head` (request line and headers, without the blank line) and `body`; reads one answer. */
export async function rawRequest(url: string, head: string, body = "", ms = 5000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  let data = "";
  let timedOut = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => ((timedOut = true), resolve()), ms);
    const finish = () => (clearTimeout(timer), resolve());
    void Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open(s) {
          s.write(`${head}\r\nConnection: close\r\n\r\n${body}`);
        },
        data(s, chunk) {
          data += new TextDecoder().decode(chunk);
          const end = data.indexOf("\r\n\r\n");
          const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, end));
          // an answer is complete at its declared length; HEAD answers declare one but carry no body
          if (end >= 0 && (head.startsWith("HEAD ") || (length && data.length - end - 4 >= Number(length[1])))) (s.end(), finish());
        },
        close: finish,
        error: finish,
      },
    }).catch(finish);
  });
  const end = data.indexOf("\r\n\r\n");
  const lines = data.slice(0, end < 0 ? undefined : end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(lines[0]?.split(" ")[1] ?? 0), headers, body: end < 0 ? "" : data.slice(end + 4), timedOut };
}
