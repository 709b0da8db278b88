// Process state shared by the HTTP layer and the entrypoint (readiness during shutdown, in-flight count).
export class Lifecycle {
  shuttingDown = false;
  inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  requestStarted(): void {
    this.inFlight++;
  }

  requestFinished(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves when no request is in flight, or after `timeoutMs` (then returns false). */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([idle, late]);
    clearTimeout(timer);
    return result;
  }
}
