/**
 * Messages between the dev server and its probe worker (toolProbe.ts), which
 * imports tool files in a fresh module registry to read what they export.
 */

/** Where a file failed, in its own lines (1-based), when known. */
export interface FilePosition {
  line?: number;
  column?: number;
}

/** What a tool module exports, as far as the probe could read it. */
export type ProbeResult =
  | {
      ok: true;
      hasDefault: boolean;
      description?: unknown;
      title?: unknown;
      inputSchema?: unknown;
      outputSchema?: unknown;
      annotations?: unknown;
    }
  | ({ ok: false; message: string } & FilePosition);

/** dev server → probe: import these files (absolute paths) under this version stamp. */
export interface ProbeRequest {
  files: string[];
  stamp: string;
}

/** probe → dev server, one per file, then `done`. */
export type ProbeReply = { type: "result"; file: string; result: ProbeResult } | { type: "done" };
