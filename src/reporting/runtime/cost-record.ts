import { CostLine } from './costs';

/**
 * What the report last learned from each cost source for a month, and how a run's answers merge into it (pure).
 *
 * A source that fails never replaces a recorded figure: its last recorded lines are shown instead (labelled, with when
 * they were recorded), or the figure is marked missing when none was ever recorded. Any total that lacks a source's
 * figure from this run is marked partial, and a month Cost Explorer calls estimated is labelled so, in the email and in
 * both workbooks alike.
 */

export type CostSourceKey = 'aws' | 'elastic';

/** The API each source reads, as named to the reader. */
export const COST_SOURCE_API: Record<CostSourceKey, string> = {
  aws: 'Cost Explorer',
  elastic: 'Elastic Cloud billing API',
};

const SOURCE_NAME: Record<CostSourceKey, string> = { aws: 'AWS', elastic: 'Elastic Cloud' };

/** One source's figures as answered by a successful read. */
export interface SourceFigures {
  readonly lines: readonly CostLine[];
  /** Cost Explorer's `Estimated`: the month is not closed and charges may still change. */
  readonly estimated?: boolean;
}

export interface RecordedFigures extends SourceFigures {
  /** ISO time of the run that read them. */
  readonly recordedAt: string;
}

/** `<prefix>cost-reports/<year>/<YYYY-MM>.figures.json`: the last successful answer of each source. */
export interface CostRecord {
  readonly month: string;
  readonly sources: { readonly aws?: RecordedFigures; readonly elastic?: RecordedFigures };
}

/** How a source's figures in this report relate to this run, for the email and the workbooks. */
export interface SourceNote {
  /** Next to the source's subtotal: `estimated`, `last recorded 2026-12-01 01:00 UTC, Cost Explorer unavailable`... */
  readonly label: string;
  /** A sentence for the email. */
  readonly sentence: string;
  /** No figure at all: the subtotal stays empty and the yearly workbook's cell is left as it is. */
  readonly missing?: boolean;
}

export interface CostNotes {
  /** Qualifies every total: `partial: Cost Explorer unavailable`, `estimated`. Absent when complete and final. */
  readonly total?: string;
  readonly aws?: SourceNote;
  readonly elastic?: SourceNote;
}

/** The month's costs as shown: lines per source (fresh or kept) and the notes that qualify them. */
export interface MergedCosts {
  readonly month: string;
  readonly aws: readonly CostLine[];
  /** Undefined when Elastic Cloud billing is not configured. */
  readonly elastic?: readonly CostLine[];
  readonly notes?: CostNotes;
}

/** A configured source's answer in this run: figures, or `undefined` when it failed. */
export type SourceAnswer = SourceFigures | undefined;

export interface CostMerge {
  readonly costs: MergedCosts;
  /** The record to store: only figures this run read replace what was there. */
  readonly record: CostRecord;
  /** True when this run read any figure (the record changed). */
  readonly changed: boolean;
  /** True when some source has a figure (fresh or recorded), so the workbooks are worth writing. */
  readonly anyFigure: boolean;
}

/** `2026-12-01 01:00 UTC`. */
export function recordedWhen(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** `Total` with its qualifier: `Total (partial: Cost Explorer unavailable)`. */
export function totalLabel(notes: CostNotes | undefined, base = 'Total'): string {
  return notes?.total ? `${base} (${notes.total})` : base;
}

/** A subtotal's label: `Subtotal (estimated)`. */
export function subtotalLabel(note: SourceNote | undefined): string {
  return note ? `Subtotal (${note.label})` : 'Subtotal';
}

/**
 * Merges a run's answers into the month's record. `answers` has a key for each configured source (AWS is always
 * shown; Elastic Cloud only when configured); `previous` is undefined when nothing was recorded yet, null when the
 * record could not be read or the workbooks predate it (a failed source's figures are then unknown, and the workbooks
 * must not be written). `recordsIn` names where the record was looked for when that is not the report bucket (a dry
 * run's output directory), so "nothing recorded" is not read as "nothing recorded by the function".
 */
export function mergeCosts(
  month: string,
  previous: CostRecord | undefined | null,
  answers: { readonly aws: SourceAnswer; readonly elastic?: SourceAnswer; readonly elasticConfigured: boolean },
  now: Date,
  recordsIn?: string,
): CostMerge {
  const sources: { -readonly [K in CostSourceKey]?: RecordedFigures } = { ...previous?.sources };
  const notes: { -readonly [K in keyof CostNotes]: CostNotes[K] } = {};
  const unavailable: string[] = [];
  let estimated = false;
  let changed = false;
  const shown: { -readonly [K in CostSourceKey]?: readonly CostLine[] } = {};
  const keys: CostSourceKey[] = answers.elasticConfigured ? ['aws', 'elastic'] : ['aws'];
  for (const key of keys) {
    const answer = answers[key];
    const api = COST_SOURCE_API[key];
    if (answer) {
      sources[key] = { lines: answer.lines, estimated: answer.estimated ?? false, recordedAt: now.toISOString() };
      changed = true;
      shown[key] = answer.lines;
      if (answer.estimated) {
        estimated = true;
        notes[key] = { label: 'estimated', sentence: `${api} marks this month as estimated: the ${SOURCE_NAME[key]} figures may still change.` };
      }
      continue;
    }
    unavailable.push(`${api} unavailable`);
    const kept = sources[key];
    if (kept) {
      shown[key] = kept.lines;
      if (kept.estimated) estimated = true;
      const when = recordedWhen(kept.recordedAt);
      notes[key] = {
        label: `last recorded ${when}${kept.estimated ? ', estimated' : ''}, ${api} unavailable`,
        sentence: `${api} failed: the ${SOURCE_NAME[key]} figures are the last recorded ones, from ${when}${kept.estimated ? ' (estimated then)' : ''}.`,
      };
    } else if (previous === null) {
      shown[key] = key === 'aws' ? [] : undefined;
      notes[key] = {
        label: `unknown, ${api} unavailable`,
        sentence: `${api} failed and the recorded figures are not known to this run: the ${SOURCE_NAME[key]} figures are missing from this email, and the cost workbooks were left as they are.`,
        missing: true,
      };
    } else {
      shown[key] = key === 'aws' ? [] : undefined;
      notes[key] = {
        label: `missing, ${api} unavailable`,
        sentence: `${api} failed and no ${SOURCE_NAME[key]} figures were recorded for this month${recordsIn ? ` in ${recordsIn}` : ''}: they are missing from the total.`,
        missing: true,
      };
    }
  }
  const qualifiers = [
    ...(unavailable.length > 0 ? [`partial: ${unavailable.join(', ')}`] : []),
    ...(estimated ? ['estimated'] : []),
  ];
  if (qualifiers.length > 0) notes.total = qualifiers.join('; ');
  const hasNotes = Object.keys(notes).length > 0;
  return {
    costs: { month, aws: shown.aws ?? [], ...(answers.elasticConfigured ? { elastic: shown.elastic } : {}), ...(hasNotes ? { notes } : {}) },
    record: { month, sources },
    changed,
    anyFigure: keys.some((k) => notes[k]?.missing !== true),
  };
}

function isLine(value: unknown): value is CostLine {
  const l = value as CostLine;
  return typeof l === 'object' && l !== null && (l.source === 'AWS' || l.source === 'Elastic Cloud')
    && typeof l.item === 'string' && typeof l.amount === 'number' && Number.isFinite(l.amount);
}

function parseFigures(value: unknown): RecordedFigures | undefined {
  const f = value as RecordedFigures | undefined;
  if (f === undefined || f === null) return undefined;
  if (!Array.isArray(f.lines) || !f.lines.every(isLine) || typeof f.recordedAt !== 'string' || Number.isNaN(Date.parse(f.recordedAt))) {
    throw new Error('recorded cost figures are not in the expected shape');
  }
  return { lines: f.lines, estimated: f.estimated === true, recordedAt: f.recordedAt };
}

/** The stored record; an unreadable one is an error (a run must not mistake it for "nothing recorded"). */
export function parseCostRecord(text: string, month: string): CostRecord {
  const raw = JSON.parse(text) as { month?: unknown; sources?: Record<string, unknown> };
  if (raw?.month !== month || typeof raw.sources !== 'object' || raw.sources === null) {
    throw new Error(`the cost record is not the record of ${month}`);
  }
  const aws = parseFigures(raw.sources.aws);
  const elastic = parseFigures(raw.sources.elastic);
  return { month, sources: { ...(aws ? { aws } : {}), ...(elastic ? { elastic } : {}) } };
}

export function serializeCostRecord(record: CostRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
