import { ConsoleMessage, renderConsole, RowState, selectRows, WIDGET_DESCRIPTION } from './console-render';
import { ActionError, ActionResult, OperatorActions } from './operator-actions';
import { Log } from '../../shared/runtime/telemetry';

/** What CloudWatch sends a custom widget function: its own context, and the parameters of the button pressed. */
export interface WidgetEvent {
  readonly describe?: boolean;
  /** From a button: block, unblock, extend, allow or unallow. */
  readonly action?: string;
  /** From a row's button; the Block and Allow-list buttons take the form's address instead. */
  readonly target?: string;
  readonly page?: number;
  readonly widgetContext?: {
    readonly forms?: { readonly all?: Record<string, unknown> };
    readonly params?: Record<string, unknown>;
  };
}

export interface WidgetDeps {
  readonly actions: OperatorActions;
  readonly guardName: string;
  /** The function's own ARN, which its buttons call. */
  readonly endpoint: string;
  readonly historyUrl?: string;
  readonly log: Log;
  readonly now: () => number;
}

const STATES: readonly RowState[] = ['all', 'active', 'would-block', 'manual', 'allow'];

/**
 * One call of the widget: run the action a button asked for (if any), then draw the rows. The event carries no user
 * identity, so the operator's name comes from the form and the row records `dashboard`; CloudTrail keeps the IAM
 * principal that invoked the function.
 */
export async function handleWidget(event: WidgetEvent, deps: WidgetDeps): Promise<string> {
  if (event.describe) return WIDGET_DESCRIPTION;
  const raw = event.widgetContext?.forms?.all ?? {};
  const form: Record<string, string> = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v ?? '')]));
  let message: ConsoleMessage | undefined;
  if (event.action !== undefined) {
    try {
      const result = await run(event, form, deps.actions);
      message = { ok: true, text: result.message, choices: result.choices };
      deps.log.info('operator action', { action: event.action, operator: form.operator, rows: result.rows.map((r) => `${r.ip} ${r.ruleId}`) });
    } catch (e) {
      if (!(e instanceof ActionError)) {
        deps.log.error('operator action failed', { action: event.action, error: (e as Error).message });
        message = { ok: false, text: 'the action failed; the widget function\'s log has the error' };
      } else {
        message = { ok: false, text: e.message, choices: e.choices };
      }
    }
  }
  const paramState = event.widgetContext?.params?.state;
  const state = (STATES as readonly string[]).includes(form.state) ? form.state as RowState
    : (STATES as readonly unknown[]).includes(paramState) ? paramState as RowState : 'all';
  const now = deps.now();
  const rows = selectRows(await deps.actions.rows(), { text: form.filter, state }, now);
  return renderConsole({
    guardName: deps.guardName,
    endpoint: deps.endpoint,
    rows,
    page: Number.isInteger(event.page) ? event.page! : 1,
    nowMs: now,
    message,
    form,
    historyUrl: deps.historyUrl,
  });
}

async function run(event: WidgetEvent, form: Record<string, string>, actions: OperatorActions): Promise<ActionResult> {
  const operator = { name: form.operator ?? '', via: 'dashboard' as const };
  const reason = form.reason ?? '';
  const target = event.target ?? form.target ?? '';
  switch (event.action) {
    case 'block': return actions.block({ target, period: form.period || '1h', reason, operator });
    case 'unblock': return actions.unblock({ target, reason, operator, shield: form.shield || '1h' });
    case 'extend': return actions.extend({ target, by: form.period || '1h', reason, operator });
    case 'allow': return actions.allow({ target, period: form.period || undefined, reason, operator });
    case 'unallow': return actions.unallow({ target, reason, operator });
    default: throw new ActionError(`unknown action ${JSON.stringify(event.action)}`);
  }
}
