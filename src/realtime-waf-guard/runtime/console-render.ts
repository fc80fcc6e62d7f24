import { BlockRow } from './block-store';
import { ActionChoice, controlKind, isControlRow, MANUAL_RULE_ID, NO_END_MS } from './operator-actions';

/** Rows a page of the widget shows: CloudWatch renders a widget's HTML in full, so long lists are paged. */
export const PAGE_SIZE = 100;

/** Periods offered in the widget's form (block, extend, shield). */
export const PERIODS = ['15m', '1h', '2h', '6h', '1d', '7d'];
export const SHIELDS = ['1h', '6h', '1d', '0'];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Every value the widget shows passes through here: rule ids, hosts and reasons are typed by people. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

export type RowState = 'all' | 'active' | 'would-block' | 'manual' | 'allow';

export interface RowFilter {
  /** Matched against the client, rule id and host (case-insensitive substring). */
  readonly text?: string;
  readonly rule?: string;
  readonly host?: string;
  /** A client or prefix: rows whose key contains the text. */
  readonly ip?: string;
  /** @default 'all' */
  readonly state?: RowState;
}

/**
 * Rows an operator looks at: blocks and dry-run catches in force (and run-time allow-list entries), filtered, the
 * newest decisions first. Shields are shown with the unblock that made them, not as rows of their own.
 */
export function selectRows(rows: readonly BlockRow[], filter: RowFilter, nowMs: number): BlockRow[] {
  const text = filter.text?.trim().toLowerCase();
  const state = filter.state ?? 'all';
  return rows
    .filter((r) => r.blockedUntil > nowMs && r.releasedAt === undefined && controlKind(r) !== 'SHIELD')
    .filter((r) => {
      if (state === 'active') return r.action === 'BLOCK';
      if (state === 'would-block') return r.action === 'COUNT';
      if (state === 'manual') return r.ruleId === MANUAL_RULE_ID;
      if (state === 'allow') return isControlRow(r);
      return true;
    })
    .filter((r) => !filter.rule || r.ruleId === filter.rule)
    .filter((r) => !filter.host || r.host === filter.host)
    .filter((r) => !filter.ip || clientOf(r).includes(filter.ip))
    .filter((r) => !text || [clientOf(r), r.ruleId, r.host, r.manualBy ?? ''].some((v) => v.toLowerCase().includes(text)))
    .sort((a, b) => b.blockedAt - a.blockedAt || (clientOf(a) < clientOf(b) ? -1 : 1));
}

/** The client or network a row is about. */
export function clientOf(r: BlockRow): string {
  return r.cidr ?? r.ip;
}

export function kindOf(r: BlockRow): string {
  if (isControlRow(r)) return 'Allow-listed';
  if (r.action === 'COUNT') return 'Would block (COUNT)';
  return r.ruleId === MANUAL_RULE_ID ? 'Blocked by hand' : 'Blocked';
}

export function ruleOf(r: BlockRow): string {
  return isControlRow(r) ? '-' : r.ruleId === MANUAL_RULE_ID ? 'manual' : r.ruleId;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z').replace('T', ' ');

export function untilText(ms: number): string {
  return ms >= NO_END_MS ? 'no end' : iso(ms);
}

/** What the last action did or why it failed, with what the operator may do next (one button each). */
export interface ConsoleMessage {
  readonly ok: boolean;
  readonly text: string;
  readonly choices?: readonly ActionChoice[];
}

export interface ConsoleView {
  readonly guardName: string;
  /** The widget function's ARN: where the buttons send their calls. */
  readonly endpoint: string;
  readonly rows: readonly BlockRow[];
  readonly page: number;
  readonly nowMs: number;
  /** What the last action did, or why it failed. */
  readonly message?: ConsoleMessage;
  /** Form values to keep between renders (the operator's name and the filter). */
  readonly form: Readonly<Record<string, string>>;
  /** Console link to the history table, for the footer. */
  readonly historyUrl?: string;
}

/** A button that calls the widget function with `params` after the operator confirms, and redraws the widget. */
function action(endpoint: string, label: string, params: Record<string, unknown>, confirmation?: string, primary = false): string {
  const confirm = confirmation ? ` confirmation="${escapeHtml(confirmation)}"` : '';
  return `<a class="btn${primary ? ' btn-primary' : ''}">${escapeHtml(label)}</a>` +
    `<cwdb-action action="call" endpoint="${escapeHtml(endpoint)}" display="widget"${confirm}>${escapeHtml(JSON.stringify(params))}</cwdb-action>`;
}

/** A choice offered after an action: unblock uses the shield, allow the period chosen in the form. */
function choiceButton(endpoint: string, choice: ActionChoice, page: number): string {
  const confirmation = choice.action === 'unblock'
    ? `End the block of ${choice.target} now (every address in it) and shield it for the shield period chosen above?`
    : `Allow-list ${choice.target} for the period chosen above (never blocked)?`;
  return action(endpoint, choice.label, { action: choice.action, target: choice.target, page }, confirmation);
}

function select(name: string, options: readonly string[], selected: string | undefined, labels: Record<string, string> = {}): string {
  return `<select name="${name}">${options.map((o) => `<option value="${escapeHtml(o)}"${o === selected ? ' selected' : ''}>${escapeHtml(labels[o] ?? o)}</option>`).join('')}</select>`;
}

/** The widget's HTML: the action form, one page of rows with their buttons, and paging. */
export function renderConsole(view: ConsoleView): string {
  const { endpoint, form } = view;
  const pages = Math.max(1, Math.ceil(view.rows.length / PAGE_SIZE));
  const page = Math.min(Math.max(1, view.page), pages);
  const shown = view.rows.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const message = view.message
    ? `<p class="${view.message.ok ? 'ok' : 'error'}"><b>${view.message.ok ? 'Done' : 'Not done'}:</b> ${escapeHtml(view.message.text)}</p>` +
      (view.message.choices?.length ? `<p>${view.message.choices.map((c) => choiceButton(endpoint, c, page)).join(' ')}</p>` : '')
    : '';
  const rows = shown.map((r) => {
    const client = clientOf(r);
    const buttons = isControlRow(r)
      ? action(endpoint, 'Remove', { action: 'unallow', target: client, page }, `Take ${client} off the allow-list?`)
      : [
        action(endpoint, r.action === 'COUNT' ? 'Dismiss' : 'Unblock', { action: 'unblock', target: client, page },
          `Unblock ${client} (every rule) now and shield it from automatic blocks for the shield period chosen above?`),
        r.action === 'BLOCK' ? action(endpoint, 'Extend', { action: 'extend', target: client, page }, `Extend the block of ${client} by the period chosen above?`) : '',
      ].join(' ');
    const by = r.manualBy ? `${r.manualBy} (${r.manualVia ?? '?'}): ${r.manualReason ?? ''}` : '';
    return '<tr>' + [
      `<td><code>${escapeHtml(client)}</code></td>`,
      `<td>${escapeHtml(kindOf(r))}</td>`,
      `<td>${escapeHtml(ruleOf(r))}</td>`,
      `<td>${escapeHtml(r.host)}</td>`,
      `<td>${escapeHtml(r.route ?? (isControlRow(r) ? '-' : 'DIRECT'))}</td>`,
      `<td>${escapeHtml(iso(r.blockedAt))}</td>`,
      `<td>${escapeHtml(untilText(r.blockedUntil))}</td>`,
      `<td>${r.threshold > 0 ? `${escapeHtml(r.observed)} / ${escapeHtml(r.threshold)} in ${escapeHtml(r.windowSeconds)} s` : '-'}</td>`,
      `<td>${escapeHtml(by)}</td>`,
      `<td>${buttons}</td>`,
    ].join('') + '</tr>';
  }).join('\n');
  const paging = pages > 1
    ? `<p>Page ${page} of ${pages} (${view.rows.length} rows) ` +
      (page > 1 ? action(endpoint, 'Previous', { page: page - 1 }) : '') + ' ' +
      (page < pages ? action(endpoint, 'Next', { page: page + 1 }) : '') + '</p>'
    : `<p>${view.rows.length} row${view.rows.length === 1 ? '' : 's'}</p>`;
  return `<style>
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
p.ok { color: #1d8102; } p.error { color: #d13212; }
form label { margin-right: 10px; white-space: nowrap; }
</style>
${message}
<form>
<p>
<label>Your name <input name="operator" size="18" value="${escapeHtml(form.operator)}"></label>
<label>Reason <input name="reason" size="28" value=""></label>
<label>Period ${select('period', PERIODS, form.period ?? '1h')}</label>
<label>Shield after unblock ${select('shield', SHIELDS, form.shield ?? '1h', { 0: 'none' })}</label>
</p>
<p>
<label>Address or prefix <input name="target" size="24" value=""></label>
${action(endpoint, 'Block', { action: 'block', page: 1 }, 'Block the address or prefix typed above for the chosen period?', true)}
${action(endpoint, 'Allow-list', { action: 'allow', page: 1 }, 'Allow-list the address or prefix typed above for the chosen period (never blocked)?')}
<label style="margin-left:20px">Filter <input name="filter" size="16" value="${escapeHtml(form.filter)}"></label>
${select('state', ['all', 'active', 'would-block', 'manual', 'allow'], form.state ?? 'all', { 'all': 'everything', 'active': 'blocks', 'would-block': 'dry-run catches', 'manual': 'blocked by hand', 'allow': 'allow-list' })}
${action(endpoint, 'Show', { page: 1 })}
</p>
</form>
<table>
<tr><th>Client or prefix</th><th>What</th><th>Rule</th><th>Host</th><th>Route</th><th>Since (UTC)</th><th>Until (UTC)</th><th>Count at decision</th><th>By hand</th><th></th></tr>
${rows || '<tr><td colspan="10">Nothing blocked.</td></tr>'}
</table>
${paging}
<p>Actions take effect on the next sync run (seconds) and are announced in the next digest. ${view.historyUrl ? `<a href="${escapeHtml(view.historyUrl)}" target="_blank">History table</a>` : ''}</p>`;
}

/** What `describe` returns: CloudWatch shows it when the widget is added or edited. */
export const WIDGET_DESCRIPTION = `## Blocks of a cdk-waf-guard guard

Lists the clients the guard blocks and the clients its COUNT rules would block (dry-run catches), newest first, 100
per page, with run-time allow-list entries.

* **Unblock** ends every block of the client now (the next sync run releases it) and shields it from automatic blocks
  for the shield period chosen (default 1 hour). A wider block that holds the client (a manual /16) is left in force;
  the widget says so and offers buttons to end that block or to allow-list the client.
* **Extend** makes a block longer by the period chosen.
* **Block** blocks the address or prefix typed for the period chosen; it spends none of the new-block budget and is
  released only when its period ends.
* **Allow-list** adds the address or prefix to the run-time allow-list for the period chosen; entries are as narrow
  as blocks (IPv4 /16, IPv6 /32) unless the guard's props widen them.

Every action asks for confirmation, needs your name and a reason, is recorded in the history table with both and with
\`dashboard\`, and appears in the next alert digest. CloudTrail records the IAM principal that invoked the widget function.

Widget parameters (optional): \`{"state": "active" | "would-block" | "manual" | "allow"}\`.`;
