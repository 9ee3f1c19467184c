import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ALERT_STATES } from '../../src/domain/alert-states.js';
import { DELIVERY_STATUSES } from '../../src/domain/deliveries.js';
import { DEPLOYMENT_STATUSES } from '../../src/domain/lifecycle.js';
import { OUTBOX_STATUSES } from '../../src/domain/outbox-states.js';
import { RELAY_FAULT_STATES } from '../../src/domain/relay-fault-states.js';

/**
 * Every status set and state of the domain is written once, in src/domain/: SQL and the Slack
 * renderers take the values from there (db/sql-values.ts writes them into SQL). This scans the
 * parsed source for a status or state retyped as a literal inside an SQL template (any tagged
 * template: postgres.js `sql`, a transaction `tx`, drizzle's `sql` in the schema), or compared
 * with a status or state, or listed in a set, in Slack code. Migrations are history and stay as
 * they were written.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const VALUES = new Set<string>([...DEPLOYMENT_STATUSES, ...DELIVERY_STATUSES, ...ALERT_STATES, ...OUTBOX_STATUSES, ...RELAY_FAULT_STATES]);
const COMPARISONS = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);

export interface Finding {
  file: string;
  line: number;
  text: string;
}

/** `'sent', sent_count`: a JSON key naming its counter column, not a status. */
const SQL_LITERAL = /'([a-z_]+)'(?!\s*,\s*\1_count\b)/g;

export function statusLiterals(source: string, file: string): Finding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const slack = file.split(path.sep).join('/').includes('src/slack/');
  const found: Finding[] = [];
  const add = (node: ts.Node, text: string) => found.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, text });
  const statusLike = (node: ts.Node) => /status|state/i.test(node.getText(sf));
  const isValue = (node: ts.Node): node is ts.StringLiteral => ts.isStringLiteral(node) && VALUES.has(node.text);

  const visit = (node: ts.Node) => {
    if (ts.isTaggedTemplateExpression(node)) {
      const template = node.template;
      const parts = ts.isNoSubstitutionTemplateLiteral(template) ? [template] : [template.head, ...template.templateSpans.map((s) => s.literal)];
      for (const part of parts) {
        for (const match of part.text.matchAll(SQL_LITERAL)) if (VALUES.has(match[1]!)) add(part, `SQL literal '${match[1]}'`);
      }
    }
    if (slack && ts.isBinaryExpression(node) && COMPARISONS.has(node.operatorToken.kind)) {
      for (const [literal, other] of [[node.left, node.right], [node.right, node.left]] as const) {
        if (isValue(literal) && statusLike(other)) add(literal, `compared with '${literal.text}'`);
      }
    }
    if (slack && ts.isArrayLiteralExpression(node) && node.elements.filter(isValue).length >= 2) add(node, `a set retyped: ${node.getText(sf)}`);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.includes(`${path.sep}domain${path.sep}`) && !file.includes(`${path.sep}migrations${path.sep}`))
    .sort();
}

describe('status literals', () => {
  it('no SQL template or Slack code outside domain/ retypes a status or state', () => {
    const src = path.join(ROOT, 'src');
    const findings = sourceFiles(src).flatMap((file) => statusLiterals(readFileSync(file, 'utf8'), path.relative(ROOT, file)));
    expect(findings).toEqual([]);
  });

  it('finds a status in SQL, a comparison and a retyped set in Slack code, and lets domain values through', () => {
    const sql = "await sql`update deliveries set status = 'claimed' where id = ${id} and state <> 'open'`;";
    expect(statusLiterals(sql, 'src/db/queries/x.ts').map((f) => f.text)).toEqual(["SQL literal 'claimed'", "SQL literal 'open'"]);
    const nested = "sql`select ${cond ? sql`x` : sql`update batches set status = 'paused'`}`";
    expect(statusLiterals(nested, 'src/db/queries/x.ts')).toHaveLength(1);
    const slack = "if (d.status === 'paused') x(); const LIVE = ['scheduled', 'sending']; if (outcome === 'cancelled') y();";
    expect(statusLiterals(slack, 'src/slack/blocks/x.ts').map((f) => f.text)).toEqual(["compared with 'paused'", "a set retyped: ['scheduled', 'sending']"]);
    expect(statusLiterals(slack, 'src/services/x.ts')).toEqual([]);
    const fine = "sql`select json_build_object('sent', sent_count) where status = ${sqlValue(sql, STATUS.sending)} and kind = 'post'`";
    expect(statusLiterals(fine, 'src/db/queries/x.ts')).toEqual([]);
  });
});
