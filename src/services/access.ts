import { ok, refused, type Result } from '../domain/result.js';
import { ROLES } from '../domain/roles.js';
import type { Database } from '../db/client.js';
import { recordAudit } from '../db/queries/audit.js';
import { deleteOperator, findOperator, listOperators, upsertOperator, type OperatorRow, type Role } from '../db/queries/operators.js';

/** Who may act: grants and revocations are audited; the role is read on every action. */
export const USER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export type AccessRefusal = 'invalid_user' | 'invalid_role' | 'not_found';

export function createAccessService(deps: { db: Database; clock: () => Date }) {
  const { db, clock } = deps;
  return {
    async grant(user: string, role: string, grantedBy: string): Promise<Result<OperatorRow, AccessRefusal>> {
      if (!USER_PATTERN.test(user)) return refused('invalid_user', 'USER must be a Slack user id like U0123ABCD (letters, digits, . _ @ -)');
      if (!(ROLES as readonly string[]).includes(role)) return refused('invalid_role', '--role must be viewer, responder or admin');
      const at = clock();
      const saved = await db.transaction(async (tx) => {
        const row = await upsertOperator(tx, { userId: user, role: role as Role, grantedBy }, at);
        await recordAudit(tx, { at, actor: grantedBy, action: 'access.grant', targetType: 'operator', targetId: user, outcome: 'ok', details: { role } });
        return row;
      });
      return ok(saved);
    },

    async revoke(user: string, revokedBy: string): Promise<Result<OperatorRow, AccessRefusal>> {
      if (!USER_PATTERN.test(user)) return refused('invalid_user', 'USER must be a Slack user id like U0123ABCD (letters, digits, . _ @ -)');
      const at = clock();
      const removed = await db.transaction(async (tx) => {
        const row = await deleteOperator(tx, user);
        if (row) {
          await recordAudit(tx, { at, actor: revokedBy, action: 'access.revoke', targetType: 'operator', targetId: user, outcome: 'ok', details: { role: row.role } });
        }
        return row;
      });
      return removed ? ok(removed) : refused('not_found', `${user} has no access to revoke`);
    },

    list: () => listOperators(db),
    roleOf: async (user: string) => (await findOperator(db, user))?.role,
  };
}

export type AccessService = ReturnType<typeof createAccessService>;
