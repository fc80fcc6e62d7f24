/* eslint-disable no-bitwise -- setting the version and variant bits of a UUID */
import { createHash } from 'crypto';

/** Namespace of the library's saved-object ids (a random UUID, fixed forever: changing it would orphan imported objects). */
const NAMESPACE = '5d1c0b8e-7f0a-4c52-9a43-2b7e8f1d6c39';

/**
 * A name-based UUID (RFC 4122 version 5: SHA-1 of namespace and name). The same name gives the same id on every run and
 * machine, so a second import of the objects overwrites the first instead of adding copies.
 */
export function stableUuid(...parts: readonly string[]): string {
  const hash = createHash('sha1')
    .update(Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex'))
    // NUL cannot occur in an index pattern or an object name: the parts cannot run into each other.
    .update(parts.join('\u0000'), 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
