import { describe, expect, it } from 'vitest';
import { checkTemplate, mergeValues, renderHeader, renderText } from '../../../src/domain/merge.js';
import { buildMessage } from '../../../src/domain/message.js';

/** Merge fields: looked up in a Map, so names of Object.prototype's members are unknown fields like any other. */
describe('merge fields', () => {
  const values = mergeValues(['first_name', 'city'], ['Ann', 'Oslo'], 'ann@example.com');

  it('replaces known fields and the address; an unknown field renders empty', () => {
    expect(renderText('Hi {{first_name}} of {{ city }} <{{email}}>{{nickname}}', values)).toBe('Hi Ann of Oslo <ann@example.com>');
    expect(renderHeader('Hi {{first_name}}\r\n{{nickname}}', mergeValues(['first_name'], ['A\nB'], 'x@example.com'))).toBe('Hi A B');
  });

  // The only Object.prototype member a field name can spell (names are lower case, start with a letter).
  it('T1: {{constructor}} renders empty in the body and the subject', () => {
    const template = 'Hi {{first_name}}{{constructor}}{{ constructor }}';
    const message = buildMessage(
      { fromAddress: 'news@example.com', subject: template, bodyText: `${template}\n`, fieldNames: ['first_name'] },
      { deploymentId: 'dep_0123456789', seq: 1, email: 'ann@example.com', fields: ['N0'] },
    );
    expect(message.subject).toBe('Hi N0');
    expect(message.text).toBe('Hi N0\n');
  });

  it('T1: a column named like a prototype member is an ordinary field', () => {
    expect(renderText('{{constructor}}/{{to_string}}', mergeValues(['constructor', 'to_string'], ['c', 't'], 'x@example.com'))).toBe('c/t');
  });

  it('T1: refuses a tag that is not a field name, naming it; reports fields the file has no column for', () => {
    const check = (template: string) => checkTemplate(template, '--body', ['first_name']);
    expect(check('Hi {{first_name}}, {{email}}')).toEqual({ ok: true, value: { unknownFields: [] } });
    expect(check('Hi {{constructor}} {{nick}} {{nick}}')).toEqual({ ok: true, value: { unknownFields: ['constructor', 'nick'] } });
    for (const tag of ['{{ First Name }}', '{{first-name}}', '{{__proto__}}', '{{toString}}', '{{}}']) {
      expect(check(`Hi ${tag}!`)).toMatchObject({ ok: false, code: 'invalid', reason: `--body: ${tag} is not a merge field; write a column name in lower case with _ for spaces, like {{first_name}}` });
    }
    expect(check('Hi {{first_name')).toMatchObject({ ok: false, reason: expect.stringContaining('{{first_name is not a merge field') });
    expect(check('Braces { and } alone are text')).toMatchObject({ ok: true });
  });
});
