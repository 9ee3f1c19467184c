import { describe, expect, it } from 'vitest';
import { CONTROL_ROLES, CONTROL_ROLES_IN_WORDS, ROLES, mayControl } from '../../../src/domain/roles.js';

describe('roles', () => {
  it('responders and admins may cancel, pause and resume; a viewer, no role or an unknown one may not', () => {
    expect(ROLES.filter(mayControl)).toEqual(['responder', 'admin']);
    expect(mayControl(undefined)).toBe(false);
    expect(mayControl('owner')).toBe(false);
  });

  it('the words of a refusal name exactly the control roles', () => {
    expect(CONTROL_ROLES_IN_WORDS).toBe(CONTROL_ROLES.map((r) => `${r}s`).join(' and '));
  });
});
