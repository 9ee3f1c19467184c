import { ALERT_STATES, type AlertState } from '../domain/alert-states.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../domain/deliveries.js';
import { DEPLOYMENT_STATUSES, type DeploymentStatus } from '../domain/lifecycle.js';
import { OUTBOX_STATUSES, type OutboxStatus } from '../domain/outbox-states.js';
import { PAGER_ACTIONS, PAGER_DESTINATIONS, type PagerAction, type PagerDestination } from '../domain/pager-events.js';
import { RELAY_FAULT_STATES, type RelayFaultState } from '../domain/relay-fault-states.js';
import { ROLES, type Role } from '../domain/roles.js';
import type postgres from 'postgres';

/**
 * Statuses, states and roles from domain/ written into SQL as literals. A literal, not a parameter: the
 * planner then sees the value itself, so a partial index (`where status = 'claimed'`) still
 * matches under a generic plan and the status column's statistics still guide the plan. Only
 * values of the domain sets are accepted (checked again at run time), so nothing else can be
 * spliced in. The schema's check constraints and partial indexes are rendered by the same code.
 */
export type StoredValue = DeploymentStatus | DeliveryStatus | AlertState | OutboxStatus | RelayFaultState | Role | PagerAction | PagerDestination;

const STORED: ReadonlySet<string> = new Set<string>([...DEPLOYMENT_STATUSES, ...DELIVERY_STATUSES, ...ALERT_STATES, ...OUTBOX_STATUSES, ...RELAY_FAULT_STATES, ...ROLES, ...PAGER_ACTIONS, ...PAGER_DESTINATIONS]);

/** `'a', 'b'`: the values as SQL string literals, comma-separated. */
export function quotedValues(values: readonly StoredValue[]): string {
  if (values.length === 0) throw new Error('an empty set of domain values cannot be written into SQL');
  for (const value of values) {
    if (!STORED.has(value)) throw new Error(`not a domain status, state or role: ${JSON.stringify(value)}`);
  }
  return values.map((value) => `'${value}'`).join(', ');
}

/** `'a'`, for `status = ${sqlValue(sql, STATUS.sending)}`. */
// The pool or a transaction (client.ts's SqlExecutor, spelled out: the schema uses this file, and client.ts the schema).
type SqlExecutor = postgres.Sql | postgres.TransactionSql;

export const sqlValue = (sql: SqlExecutor, value: StoredValue) => sql.unsafe(quotedValues([value]));

/** `('a', 'b')`, for `status in ${sqlList(sql, PAUSABLE.single)}` (or `not in`). */
export const sqlList = (sql: SqlExecutor, values: readonly StoredValue[]) => sql.unsafe(`(${quotedValues(values)})`);
