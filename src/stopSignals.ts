/**
 * SIGTERM and SIGINT start one graceful stop (SPEC "Operations"); the same signal again ends the
 * process at once. Under `npm start`, Ctrl-C arrives twice at once: the terminal signals the whole
 * process group and npm forwards its own copy to dzx (issue 15.2), so a repeat that soon is the
 * same Ctrl-C, not a second request to hurry.
 */

/** How soon a repeat of the same signal counts as the same one. */
const SAME_SIGNAL_MS = 500;

/** Calls `stop` on the first SIGTERM or SIGINT; a later repeat of that signal takes its default action (the process ends). */
export function onStopSignals(stop: (signal: "SIGTERM" | "SIGINT") => void): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    let first = 0;
    const onSignal = () => {
      if (!first) {
        first = performance.now();
        stop(signal);
      } else if (performance.now() - first >= SAME_SIGNAL_MS) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal); // no handler left: the default action ends the process
      }
    };
    process.on(signal, onSignal);
  }
}
