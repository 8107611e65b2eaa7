/**
 * A small flag reader for the CLI (`--name value`, `--name=value`, `--flag`).
 */

/** A usage or input error; printed without a stack, exit code 2. */
export class CliError extends Error {}

/** Parsed command-line flags and positionals. */
export class Flags {
  private readonly values = new Map<string, string | true>();
  private readonly positionals: string[] = [];

  constructor(argv: string[]) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a.startsWith("--")) {
        const eq = a.indexOf("=");
        if (eq > 0) this.values.set(a.slice(2, eq), a.slice(eq + 1));
        else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) this.values.set(a.slice(2), argv[++i]);
        else this.values.set(a.slice(2), true);
      } else this.positionals.push(a);
    }
  }

  /** A string flag's value. */
  string(name: string): string | undefined {
    const v = this.values.get(name);
    if (v === true) throw new CliError(`--${name} needs a value`);
    return v;
  }

  /** Whether a boolean flag is set. */
  bool(name: string): boolean {
    const v = this.values.get(name);
    return v === true || v === "true" || v === "1";
  }

  /** The n-th positional argument. */
  positional(n: number): string | undefined {
    return this.positionals[n];
  }
}
