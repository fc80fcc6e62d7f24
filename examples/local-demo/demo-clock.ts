/**
 * The demo's clock: real time while traffic flows, so latencies are real; faster afterwards, so block periods (at
 * least a minute, as the rules table requires) end within the demo. It never jumps, so every handler sees time pass
 * as it would, only quicker.
 */
export class DemoClock {
  private baseReal = Date.now();
  private baseClock = this.baseReal;
  private rate = 1;

  /** Milliseconds of clock time per real millisecond. */
  public get speed(): number {
    return this.rate;
  }

  public now(): number {
    return this.baseClock + (Date.now() - this.baseReal) * this.rate;
  }

  public setSpeed(speed: number): void {
    const now = this.now();
    this.baseReal = Date.now();
    this.baseClock = now;
    this.rate = speed;
  }

  /** Waits `ms` of clock time. */
  public sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms / this.rate));
  }
}
