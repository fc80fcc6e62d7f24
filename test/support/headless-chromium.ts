import { ChildProcess, spawn } from 'child_process';
import { existsSync } from 'fs';
import { Readable, Writable } from 'stream';

/**
 * Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`, no WebSocket client
 * needed): it lays a page out at an exact viewport width, as a phone would (`--window-size` cannot go below 500 px),
 * measures it and takes full-page screenshots. Install with `apt-get install -y chromium` or set CHROMIUM_PATH.
 */

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export function chromiumPath(): string {
  const found = [process.env.CHROMIUM_PATH, ...CANDIDATES].find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error('headless Chromium not found: install it (apt-get install -y chromium) or set CHROMIUM_PATH');
  return found;
}

export interface PageMeasure {
  /** The layout viewport's width, which must be the width asked for (else the measure means nothing). */
  readonly clientWidth: number;
  readonly scrollWidth: number;
  readonly scrollHeight: number;
  /** Elements whose right edge lies beyond the viewport (outside boxes scrolling on their own), for the failure message. */
  readonly overflowing: string[];
}

type Message = { id?: number; method?: string; params?: any; result?: any; error?: { message: string }; sessionId?: string };

export class HeadlessChromium {
  static async launch(): Promise<HeadlessChromium> {
    const proc = spawn(chromiumPath(), [
      '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--remote-debugging-pipe',
      '--disable-extensions', '--mute-audio', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    return new HeadlessChromium(proc);
  }

  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(m: Message) => void> = [];
  private buffer = '';

  private constructor(private readonly proc: ChildProcess) {
    const out = proc.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end)) as Message;
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined && this.pending.has(message.id)) {
          const p = this.pending.get(message.id)!;
          this.pending.delete(message.id);
          if (message.error) p.reject(new Error(message.error.message));
          else p.resolve(message.result);
        } else {
          this.listeners.forEach((l) => l(message));
        }
      }
    });
  }

  private send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    (this.proc.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private event(method: string, sessionId: string): Promise<Message> {
    return new Promise((resolve) => {
      const listener = (m: Message) => {
        if (m.method === method && m.sessionId === sessionId) {
          this.listeners.splice(this.listeners.indexOf(listener), 1);
          resolve(m);
        }
      };
      this.listeners.push(listener);
    });
  }

  /**
   * Opens `url` at `width` CSS px (a phone below 600 px: mobile emulation, so the page's viewport meta applies),
   * measures it and, when asked, returns a full-page PNG.
   */
  async render(url: string, width: number, screenshot = false): Promise<PageMeasure & { png?: Buffer }> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    try {
      const mobile = width < 600;
      await this.send('Emulation.setDeviceMetricsOverride', { width, height: 800, deviceScaleFactor: 1, mobile }, sessionId);
      await this.send('Page.enable', {}, sessionId);
      const loaded = this.event('Page.loadEventFired', sessionId);
      await this.send('Page.navigate', { url }, sessionId);
      await loaded;
      const { result } = await this.send('Runtime.evaluate', {
        returnByValue: true,
        expression: `(() => {
          const d = document.documentElement;
          const overflowing = [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > d.clientWidth + 0.5)
            // Inside a box that scrolls sideways on its own, a wide table does not widen the page.
            .filter((e) => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) { if (/auto|scroll/.test(getComputedStyle(a).overflowX)) return false; } return true; })
            .slice(0, 5).map((e) => e.tagName.toLowerCase() + ': ' + (e.textContent || '').slice(0, 60));
          return { clientWidth: d.clientWidth, scrollWidth: d.scrollWidth, scrollHeight: d.scrollHeight, overflowing };
        })()`,
      }, sessionId);
      const measure = result.value as PageMeasure;
      if (!screenshot) return measure;
      await this.send('Emulation.setDeviceMetricsOverride', { width, height: Math.min(measure.scrollHeight, 16_000), deviceScaleFactor: 1, mobile }, sessionId);
      const { data } = await this.send('Page.captureScreenshot', { format: 'png' }, sessionId);
      return { ...measure, png: Buffer.from(data, 'base64') };
    } finally {
      await this.send('Target.closeTarget', { targetId });
    }
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    await this.send('Browser.close').catch(() => undefined);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (this.proc.exitCode === null) this.proc.kill();
    for (const stream of this.proc.stdio) stream?.destroy();
  }
}
