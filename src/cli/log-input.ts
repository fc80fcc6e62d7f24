import { createReadStream } from 'fs';
import { Readable } from 'stream';
import { createGunzip } from 'zlib';
import { UserError } from './errors';

/** One log line and where it came from. */
export interface InputLine {
  readonly source: string;
  /** 1-based. */
  readonly lineNumber: number;
  /** Latin-1 text without the line break, as the Lambda sees a record after `atob`. */
  readonly text: string;
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
 * The lines of each source in turn. Blank lines are not records and are passed over; a CR before the LF is left for
 * the parser, which trims it as it does for Kinesis records.
 */
export async function* readLines(sources: readonly LogSource[]): AsyncGenerator<InputLine> {
  for (const source of sources) {
    let pending = '';
    let lineNumber = 0;
    try {
      for await (const chunk of decompressed(source)) {
        const text = pending + chunk.toString('latin1');
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          lineNumber++;
          const line = text.slice(start, nl);
          if (line.length > 0 && line !== '\r') yield { source: source.name, lineNumber, text: line };
          start = nl + 1;
        }
        pending = text.slice(start);
      }
    } catch (e) {
      throw new UserError(`cannot read ${source.name}: ${(e as Error).message}`);
    }
    if (pending.length > 0 && pending !== '\r') yield { source: source.name, lineNumber: lineNumber + 1, text: pending };
  }
}
