/**
 * Parser for CloudFront real-time log lines, built for the hot path. Lines are Latin-1 strings (what `atob` yields
 * from a Kinesis record): exact for the ASCII fields detection reads, and String.indexOf and slices are the fastest
 * primitives V8 has for them. It reads only the fields detection needs, lazily, and allocates nothing per line beyond
 * the slices it is asked for.
 */

/** Why a line was skipped. */
export enum Malformed {
  NONE = 0,
  EMPTY = 1,
  FIELD_COUNT = 2,
  TIMESTAMP = 3,
  CLIENT_IP = 4,
}

export const MALFORMED_REASONS: Record<Exclude<Malformed, Malformed.NONE>, string> = {
  [Malformed.EMPTY]: 'empty line',
  [Malformed.FIELD_COUNT]: 'wrong number of fields for the configured field set',
  [Malformed.TIMESTAMP]: 'timestamp is not epoch seconds',
  [Malformed.CLIENT_IP]: 'c-ip is not an IP address',
};

const TAB = '\t';
const DASH = 45;


export class LogLineParser {
  /** Number of fields every line must have. */
  public readonly fieldCount: number;
  private readonly pos: { timestamp: number; clientIp: number; host: number; path: number; xff: number };
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private lineText = '';
  /** The last parsed line's timestamp. */
  public timestampMs = 0;
  /** The last parsed line's `c-ip` text. */
  public clientIp = '';

  /**
   * @param fields the configured fields in delivered (canonical) order; must include timestamp and c-ip
   */
  constructor(fields: readonly string[]) {
    const at = (name: string) => fields.indexOf(name);
    this.pos = { timestamp: at('timestamp'), clientIp: at('c-ip'), host: at('cs-host'), path: at('cs-uri-stem'), xff: at('x-forwarded-for') };
    if (this.pos.timestamp < 0 || this.pos.clientIp < 0) {
      throw new Error('the log field set must include timestamp and c-ip');
    }
    this.fieldCount = fields.length;
    this.starts = new Int32Array(this.fieldCount);
    this.ends = new Int32Array(this.fieldCount);
  }

  /**
   * Parses one line. On success sets `timestampMs` and `clientIp`, makes the other fields readable through the getters
   * (sliced only when asked for), and returns Malformed.NONE.
   */
  public parse(line: string): Malformed {
    this.lineText = line;
    let end = line.length;
    // A record may end in a newline (and, from some producers, CR or spaces).
    for (let c = line.charCodeAt(end - 1); end > 0 && (c === 10 || c === 13 || c === 32); c = line.charCodeAt(end - 1)) end--;
    if (end === 0) return Malformed.EMPTY;
    const n = this.fieldCount;
    let start = 0;
    for (let i = 0; i < n - 1; i++) {
      const tab = line.indexOf(TAB, start);
      if (tab < 0 || tab >= end) return Malformed.FIELD_COUNT;
      this.starts[i] = start;
      this.ends[i] = tab;
      start = tab + 1;
    }
    // Extra fields mean the positions cannot be trusted (the config changed under us): skip the line.
    const extra = line.indexOf(TAB, start);
    if (extra >= 0 && extra < end) return Malformed.FIELD_COUNT;
    this.starts[n - 1] = start;
    this.ends[n - 1] = end;

    const ts = this.readTimestampMs(line, this.starts[this.pos.timestamp], this.ends[this.pos.timestamp]);
    if (ts < 0) return Malformed.TIMESTAMP;
    const ip = this.text(this.pos.clientIp);
    if (ip === undefined) return Malformed.CLIENT_IP;
    this.timestampMs = ts;
    this.clientIp = ip;
    return Malformed.NONE;
  }

  /** `cs-host` of the last parsed line. */
  public get host(): string | undefined {
    return this.text(this.pos.host);
  }

  /** `cs-uri-stem` of the last parsed line. */
  public get path(): string | undefined {
    return this.text(this.pos.path);
  }

  /** `x-forwarded-for` of the last parsed line. */
  public get forwardedFor(): string | undefined {
    return this.text(this.pos.xff);
  }

  /** The text of field i, or undefined when it is not configured, `-` or empty. */
  private text(i: number): string | undefined {
    if (i < 0) return undefined;
    const line = this.lineText;
    const s = this.starts[i];
    const e = this.ends[i];
    if (e <= s || (e - s === 1 && line.charCodeAt(s) === DASH)) return undefined;
    return line.slice(s, e);
  }

  /** `1600299221.087` as integer milliseconds, without allocating a string; -1 when invalid. */
  private readTimestampMs(line: string, s: number, e: number): number {
    let seconds = 0;
    let i = s;
    for (; i < e; i++) {
      const c = line.charCodeAt(i);
      if (c === 46) break;
      if (c < 48 || c > 57) return -1;
      seconds = seconds * 10 + (c - 48);
    }
    if (i === s || i - s > 11) return -1;
    let ms = 0;
    let scale = 100;
    for (i++; i < e; i++) {
      const c = line.charCodeAt(i);
      if (c < 48 || c > 57) return -1;
      ms += (c - 48) * scale;
      scale /= 10;
    }
    return seconds * 1000 + Math.floor(ms);
  }
}

const ESCAPE = /%([0-9A-Fa-f]{2})/g;

/**
 * Decodes each valid `%XX` escape once (CloudFront encodes some values once), byte by byte into Latin-1 characters, and
 * leaves invalid escapes as they are. Escape by escape, not all-or-nothing: one stray `%` in a query string must not
 * keep `/%6Cogin` from reading as `/login`.
 */
export function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  return s.replace(ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
