import { RELAY_FAULT_OPEN, RELAY_FAULT_RESUMED, type RelayFaultState } from '../../domain/relay-fault-states.js';
import { STATUS } from '../../domain/lifecycle.js';
import type { SqlExecutor } from '../client.js';
import { sqlValue } from '../sql-values.js';

/**
 * The relay-fault records' SQL: at most one open fault (a unique index), taken under a
 * transaction-scoped advisory lock so that workers pausing for the same fault at once add to one
 * record instead of racing to open two.
 */
const RELAY_FAULT_LOCK = 0x63_67_72_6c; // "cgrl"

export interface RelayFaultRow {
  id: string;
  cause: string;
  state: RelayFaultState;
  deployment_ids: string[];
  opened_at: Date;
  updated_at: Date;
  resumed_by: string | null;
  resumed_at: Date | null;
  slack_channel: string | null;
  slack_ts: string | null;
}

/** Opens a fault, or adds to the open one; says which. Call inside the transaction that paused the deployments. */
export async function recordRelayFault(sql: SqlExecutor, candidateId: string, cause: string, deploymentIds: string[]): Promise<{ id: string; opened: boolean }> {
  await sql`select pg_advisory_xact_lock(${RELAY_FAULT_LOCK})`;
  const [open] = await sql<{ id: string }[]>`
    update relay_faults set cause = ${cause}, updated_at = now(),
      deployment_ids = array(select distinct unnest(deployment_ids || ${deploymentIds}::text[]) order by 1)
    where state = ${sqlValue(sql, RELAY_FAULT_OPEN)} returning id`;
  if (open) return { id: open.id, opened: false };
  await sql`insert into relay_faults (id, cause, deployment_ids) values (${candidateId}, ${cause}, ${deploymentIds}::text[])`;
  return { id: candidateId, opened: true };
}

export async function relayFaultById(sql: SqlExecutor, id: string): Promise<RelayFaultRow | undefined> {
  const [row] = await sql<RelayFaultRow[]>`select * from relay_faults where id = ${id}`;
  return row;
}

/** Closes an open fault; undefined if it was not open (someone resumed it first). */
export async function closeRelayFault(sql: SqlExecutor, id: string, actor: string): Promise<{ id: string } | undefined> {
  const [row] = await sql<{ id: string }[]>`
    update relay_faults set state = ${sqlValue(sql, RELAY_FAULT_RESUMED)}, resumed_by = ${actor}, resumed_at = now(), updated_at = now()
    where id = ${id} and state = ${sqlValue(sql, RELAY_FAULT_OPEN)} returning id`;
  return row;
}

export async function sendingDeploymentIds(sql: SqlExecutor): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`select id from deployments where status = ${sqlValue(sql, STATUS.sending)} order by id`;
  return rows.map((r) => r.id);
}

export interface RelayFaultView extends RelayFaultRow {
  deployments: { id: string; name: string; status: string; campaign_name: string; waiting: number }[];
}

/** The fault and its deployments as they are now, for its Slack message. */
export async function loadRelayFaultView(sql: SqlExecutor, id: string): Promise<RelayFaultView | undefined> {
  const fault = await relayFaultById(sql, id);
  if (!fault) return undefined;
  const deployments = await sql<RelayFaultView['deployments']>`
    select d.id, d.name, d.status, c.name as campaign_name,
      greatest(0, d.total_count - d.sent_count - d.bounced_count - d.failed_count - d.unknown_count - d.cancelled_count - d.in_flight_count)::int as waiting
    from deployments d join campaigns c on c.id = d.campaign_id
    where d.id = any(${fault.deployment_ids}::text[]) order by d.id`;
  return { ...fault, deployments: [...deployments] };
}
