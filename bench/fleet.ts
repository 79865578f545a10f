/**
 * Plugin processes supervised as systemd's `Restart=always` would: one that dies on its own
 * is recorded and started again 1 s later; the ones the bench kills on purpose are not.
 */
import { join } from "node:path";
import { describeExit, PAGERDUTY_COMMAND, type PluginCommand, PluginProcess, sleep } from "./lib.ts";
import type { Report } from "./report.ts";

export class Fleet {
  /** The current process of each slot. */
  readonly procs: PluginProcess[] = [];
  /** Processes that died on their own, in order. */
  readonly deaths: { slot: number; exit: string }[] = [];
  spawned = 0;
  #stopping = false;

  constructor(
    private readonly configPath: string,
    private readonly logDir: string,
    private readonly report: Report,
    private readonly command: PluginCommand = PAGERDUTY_COMMAND,
  ) {}

  /** Starts (or replaces) the process of `slot`. */
  spawn(slot: number): PluginProcess {
    const proc = new PluginProcess(
      `plugin-${slot}`,
      this.configPath,
      join(this.logDir, `plugin-${slot}.log`),
      this.command,
    );
    this.spawned++;
    this.procs[slot] = proc;
    proc.status.then(async (status) => {
      if (proc.killedByUs || this.#stopping) return;
      this.deaths.push({ slot, exit: describeExit(status) });
      this.report.progress(
        `plugin-${slot} (pid ${proc.pid}) died on its own: ${describeExit(status)}; restarting`,
      );
      await sleep(1_000);
      // The bench may have "killed" this dead process meanwhile (a SIGKILL fault) and will
      // restart the slot itself: restarting it here too would leave a process nobody stops.
      if (!this.#stopping && this.procs[slot] === proc && !proc.killedByUs) this.spawn(slot);
    });
    return proc;
  }

  /** Resolves once every current process has said it is ready. */
  async ready(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.ready));
  }

  /** Deaths from now on are not recorded (the bench is ending). */
  stopSupervising(): void {
    this.#stopping = true;
  }

  /** Stops supervising and SIGKILLs every process. */
  async kill(): Promise<void> {
    this.stopSupervising();
    for (const proc of this.procs) await proc.kill();
  }
}
