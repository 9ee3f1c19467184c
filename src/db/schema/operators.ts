import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { ROLES } from '../../domain/roles.js';
import { quotedValues } from '../sql-values.js';

/** Who may do what: the only source of permission, checked on the server for every action. */
export const operators = pgTable(
  'operators',
  {
    userId: text('user_id').primaryKey(),
    role: text('role', { enum: ROLES }).notNull(),
    teamId: text('team_id'),
    grantedBy: text('granted_by').notNull(),
    grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('operators_role_check', sql`${t.role} in (${sql.raw(quotedValues(ROLES))})`)],
);
