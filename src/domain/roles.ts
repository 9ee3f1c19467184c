/**
 * The operators' roles and what each may do: a viewer reads; a responder also cancels, pauses
 * and resumes; an admin too (access itself is granted from the CLI). Slack's gate and the
 * control service (cancel, pause, resume) both ask mayControl, so the two can never disagree.
 */
export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The roles that may cancel, pause and resume. */
export const CONTROL_ROLES = ['responder', 'admin'] as const satisfies readonly Role[];

/** CONTROL_ROLES in words, for refusals: "only responders and admins may cancel". */
export const CONTROL_ROLES_IN_WORDS = 'responders and admins';

export function mayControl(role: string | undefined): boolean {
  return role !== undefined && (CONTROL_ROLES as readonly string[]).includes(role);
}
