import { createReadStream } from 'fs';
import { Readable } from 'stream';
import { createGunzip } from 'zlib';
import { UserError } from './errors';

/** One log line and where it came from. */
export interface InputLine {
  readonly source: string;
  /** 1-based. */
  readonly lineNumber: number;
  /** Latin-1 text without the line break, as the Lambda sees a record after `atob`; empty for an overlong line. */
  readonly text: string;
  /** Set when the line is longer than the maximum: its length in bytes. Its text was not kept. */
  readonly overlongBytes?: number;
}

/** A named byte stream: a file, or stdin. */
export interface LogSource {
  readonly name: string;
  open(): AsyncIterable<Buffer | string>;
}

export function fileSource(path: string): LogSource {
  return { name: path, open: () => createReadStream(path) };
}

export function streamSource(name: string, stream: AsyncIterable<Buffer | string>): LogSource {
  return { name, open: () => stream };
}

const GZIP_MAGIC = [0x1f, 0x8b];
const LF = 0x0a;

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
}

/**
 * The source's bytes, gunzipped when they start with the gzip magic number: the first chunk is read to decide, so
 * stdin works as well as files, whatever their names say.
 */
async function* decompressed(source: LogSource): AsyncGenerator<Buffer> {
  const iterator = source.open()[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = toBuffer(first.value);
  const rest = (async function* () {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield toBuffer(next.value);
  })();
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield* rest;
    return;
  }
  const gunzip = Readable.from(rest).pipe(createGunzip());
  for await (const chunk of gunzip) yield chunk as Buffer;
}

/**
 * Longest line kept, in bytes without the line break. CloudFront real-time log lines are about 1 KB with all 40 fields
 * (a URL or user agent can make one a few KB); anything far longer is not a log line (a binary file, a wrong
 * delimiter), and holding it whole would let one line take all the memory.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * The lines of each source in turn, in time linear in the input and memory bounded by `maxLineBytes`: a line longer
 * than that is yielded with its length and without its text, and its bytes are dropped as they arrive. Blank lines are
 * not records and are passed over; a CR before the LF is left for the parser, which trims it as it does for Kinesis
 * records.
 */
export async function* readLines(sources: readonly LogSource[], maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<InputLine> {
  for (const source of sources) {
    // The unfinished line: its pieces while it fits, only its length once it does not.
    let pieces: string[] = [];
    let pendingBytes = 0;
    let lineNumber = 0;
    const finish = (last: string): InputLine | undefined => {
      lineNumber++;
      const bytes = pendingBytes + last.length;
      let line: InputLine | undefined;
      if (bytes > maxLineBytes) {
        line = { source: source.name, lineNumber, text: '', overlongBytes: bytes };
      } else {
        const text = pieces.length === 0 ? last : pieces.join('') + last;
        if (text.length > 0 && text !== '\r') line = { source: source.name, lineNumber, text };
      }
      pieces = [];
      pendingBytes = 0;
      return line;
    };
    try {
      for await (const chunk of decompressed(source)) {
        // Inside an overlong line, a chunk without a line break is only counted, never decoded.
        if (pendingBytes > maxLineBytes && chunk.indexOf(LF) < 0) {
          pendingBytes += chunk.length;
          continue;
        }
        const text = chunk.toString('latin1');
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          const line = finish(text.slice(start, nl));
          if (line) yield line;
          start = nl + 1;
        }
        if (start < text.length) {
          pendingBytes += text.length - start;
          if (pendingBytes <= maxLineBytes) pieces.push(text.slice(start));
          else pieces = [];
        }
      }
    } catch (e) {
      throw new UserError(`cannot read ${source.name}: ${(e as Error).message}`);
    }
    if (pendingBytes > 0) {
      const line = finish('');
      if (line) yield line;
    }
  }
}
