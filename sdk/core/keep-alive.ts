/**
 * What keeps a script's process alive: work of this process in flight (a run being processed, a result being
 * awaited, an explicitly started worker). Everything else the client owns (local servers, pollers, sweeper and
 * timer intervals) does not hold the event loop, so a script ends once its work is done, `close()` or not.
 */
export class KeepAlive {
  private holds = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Holds the process open until the returned function is called (idempotent). */
  hold(): () => void {
    if (this.holds++ === 0) this.timer = setInterval(() => undefined, 2 ** 30);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Holds the process open while `work` runs. */
  async during<T>(work: () => Promise<T>): Promise<T> {
    const release = this.hold();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Work holding the process now (for tests). */
  get count(): number {
    return this.holds;
  }
}
