/**
 * C0 and C1 controls, DEL, bidirectional overrides and line/paragraph separators: characters that act on a terminal
 * (an ESC starts a control sequence) or reorder what a reader sees, rather than being shown.
 */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text made safe to print: every control character as a visible `\uXXXX` escape, everything else unchanged. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether text holds a character `escapeControls` would escape. */
export function hasControls(text: string): boolean {
  CONTROLS.lastIndex = 0;
  return CONTROLS.test(text);
}
