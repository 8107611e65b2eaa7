/**
 * `dzx --version` / `dzx version`: the package version, bundled into the binary
 * with the code (the binary has no package.json beside it).
 */
import { version } from "../../package.json" with { type: "json" };

/** The line `dzx --version` prints: `dzx <version>`. */
export function versionLine(): string {
  return `dzx ${version}`;
}
