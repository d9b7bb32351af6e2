/**
 * The signals a long-running `postern serve` answers, as mail daemons do: SIGTERM and SIGINT stop it
 * gracefully, SIGHUP reloads. After the first stop signal its handlers are removed, so a second Ctrl-C ends the
 * process at once (the default action) — safe, since a message is acknowledged only once it is on disk.
 */

export interface SignalWatch {
  /** Resolves with the first SIGTERM or SIGINT. */
  readonly stop: Promise<NodeJS.Signals>;
  /** Removes every handler this installed. */
  dispose(): void;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Installs the handlers. `reload` runs on each SIGHUP, one at a time (a SIGHUP during a reload runs it again
 * afterwards); it must not throw.
 *
 * @example const signals = watchSignals(reload); await signals.stop; await server.close(); signals.dispose();
 */
export function watchSignals(reload: () => Promise<void>, target: NodeJS.Process = process): SignalWatch {
  let chain = Promise.resolve();
  const onHup = () => {
    chain = chain.then(reload, reload);
  };
  let onStop: (signal: NodeJS.Signals) => void = () => {};
  const stop = new Promise<NodeJS.Signals>((resolve) => {
    onStop = (signal) => {
      for (const name of STOP_SIGNALS) target.off(name, onStop);
      resolve(signal);
    };
  });
  for (const name of STOP_SIGNALS) target.on(name, onStop);
  target.on('SIGHUP', onHup);
  return {
    stop,
    dispose() {
      for (const name of STOP_SIGNALS) target.off(name, onStop);
      target.off('SIGHUP', onHup);
    },
  };
}
