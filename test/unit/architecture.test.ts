import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §2: `domain/` is pure TypeScript — it imports nothing but other domain files — and
 * the configuration (`config.ts`, `config/`) is the only reader of `process.env`. Both are checked on the parsed source (the
 * TypeScript AST), so comments and strings never count and no import form slips through.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = path.join(ROOT, 'src');
const DOMAIN = path.join(SRC, 'domain');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

function parse(source: string, fileName: string): ts.SourceFile {
  return ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

const lineOf = (sf: ts.SourceFile, node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;

/** Every module a source file names: import/export-from, import type, `import x = require()`, import(), require(), import('x').T, triple-slash references. */
export function moduleSpecifiers(source: string, fileName = 'file.ts'): { specifier: string; line: number }[] {
  const sf = parse(source, fileName);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node, expression: ts.Node | undefined) => {
    const specifier = expression && ts.isStringLiteralLike(expression) ? expression.text : '<computed>';
    found.push({ specifier, line: lineOf(sf, node) });
  };
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      add(node, node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require') ||
        (ts.isPropertyAccessExpression(node.expression) &&
          ts.isIdentifier(node.expression.expression) &&
          node.expression.expression.text === 'require'))
    ) {
      add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      add(node, ts.isLiteralTypeNode(argument) ? argument.literal : undefined);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  for (const ref of [...sf.typeReferenceDirectives, ...sf.referencedFiles, ...sf.libReferenceDirectives]) {
    found.push({ specifier: `reference:${ref.fileName}`, line: sf.getLineAndCharacterOfPosition(ref.pos).line + 1 });
  }
  return found;
}

/** Globals that do I/O or reach outside the process's pure computation. */
const IMPURE_GLOBALS = new Set(['process', 'require', 'fetch', 'Buffer', 'globalThis', '__dirname', '__filename', 'XMLHttpRequest', 'WebSocket']);

function impureGlobalUses(source: string, fileName: string): { name: string; line: number }[] {
  const sf = parse(source, fileName);
  const found: { name: string; line: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) && IMPURE_GLOBALS.has(node.text)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node) ||
        ((ts.isPropertyAssignment(parent) ||
          ts.isPropertySignature(parent) ||
          ts.isPropertyDeclaration(parent) ||
          ts.isMethodDeclaration(parent) ||
          ts.isMethodSignature(parent) ||
          ts.isBindingElement(parent)) &&
          parent.name === node);
      if (!isPropertyName) found.push({ name: node.text, line: lineOf(sf, node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Why each specifier of a domain file breaks the rule (empty: the file is pure). */
export function domainImportViolations(source: string, filePath: string, domainDir = DOMAIN): string[] {
  const problems: string[] = [];
  for (const { specifier, line } of moduleSpecifiers(source, filePath)) {
    const where = `${path.relative(ROOT, filePath)}:${line}`;
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) {
      problems.push(`${where} imports ${JSON.stringify(specifier)}: domain/ may import only other domain files`);
      continue;
    }
    const target = path.resolve(path.dirname(filePath), specifier);
    const inside = path.relative(domainDir, target);
    if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
      problems.push(`${where} imports ${JSON.stringify(specifier)}, which leaves src/domain`);
    }
  }
  for (const { name, line } of impureGlobalUses(source, filePath)) {
    problems.push(`${path.relative(ROOT, filePath)}:${line} uses the global ${name}: domain/ does no I/O`);
  }
  return problems;
}

/** Lines where a source reads the environment through `process`. */
export function processEnvReads(source: string, fileName = 'file.ts'): number[] {
  const sf = parse(source, fileName);
  const lines: number[] = [];
  const isProcess = (node: ts.Node): boolean =>
    (ts.isIdentifier(node) && node.text === 'process') ||
    (ts.isPropertyAccessExpression(node) && node.name.text === 'process' && ts.isIdentifier(node.expression) && node.expression.text === 'globalThis') ||
    (ts.isParenthesizedExpression(node) && isProcess(node.expression)) ||
    ((ts.isAsExpression(node) || ts.isNonNullExpression(node)) && isProcess(node.expression));
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'env' && isProcess(node.expression)) {
      lines.push(lineOf(sf, node));
    } else if (
      ts.isElementAccessExpression(node) &&
      isProcess(node.expression) &&
      !(ts.isStringLiteralLike(node.argumentExpression) && node.argumentExpression.text !== 'env')
    ) {
      lines.push(lineOf(sf, node));
    } else if (ts.isVariableDeclaration(node) && node.initializer && isProcess(node.initializer) && ts.isObjectBindingPattern(node.name)) {
      const takesEnv = node.name.elements.some((element) => {
        const key = element.propertyName ?? element.name;
        return ts.isIdentifier(key) ? key.text === 'env' : !ts.isObjectBindingPattern(key);
      });
      if (takesEnv) lines.push(lineOf(sf, node));
    } else if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && ['process', 'node:process'].includes(node.moduleSpecifier.text)) {
      const bindings = node.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings) && bindings.elements.some((e) => (e.propertyName ?? e.name).text === 'env')) {
        lines.push(lineOf(sf, node));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return lines;
}

describe('architecture: the checkers themselves', () => {
  const file = path.join(DOMAIN, 'example.ts');

  it('finds every import form', () => {
    const source = [
      // Triple-slash directives count only at the top of a file.
      '/// <reference types="node" />',
      "import fs from 'node:fs';",
      "import { z } from 'zod';",
      "import type { App } from '@slack/bolt';",
      "import * as all from './lifecycle.js';",
      "import './side-effect.js';",
      "export { Queue } from 'bullmq';",
      "export * from './result.js';",
      "export type { Redis } from 'ioredis';",
      "import pg = require('postgres');",
      "const lazy = await import('nodemailer');",
      "const req = require('fastify');",
      "type Logger = import('pino').Logger;",
      "const computed = await import(name);",
    ].join('\n');
    const specifiers = moduleSpecifiers(source, file).map((s) => s.specifier);
    expect(specifiers).toEqual(
      expect.arrayContaining([
        'node:fs',
        'zod',
        '@slack/bolt',
        './lifecycle.js',
        './side-effect.js',
        'bullmq',
        './result.js',
        'ioredis',
        'postgres',
        'nodemailer',
        'fastify',
        'pino',
        'reference:node',
        '<computed>',
      ]),
    );
  });

  it("would fail if someone added `import fs from 'node:fs'` to a domain file", () => {
    const pure = "import { ok } from './result.js';\nexport const x = ok(1);\n";
    expect(domainImportViolations(pure, file)).toEqual([]);
    const violations = domainImportViolations(`import fs from 'node:fs';\n${pure}`, file);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain('node:fs');
    expect(violations[0]).toContain('example.ts:1');
  });

  it.each([
    "import fs from 'fs';",
    "import { readFile } from 'node:fs/promises';",
    "import type { App } from '@slack/bolt';",
    "import { WebClient } from '@slack/web-api';",
    "import { Queue } from 'bullmq';",
    "import Redis from 'ioredis';",
    "import { eq } from 'drizzle-orm';",
    "import postgres from 'postgres';",
    "import nodemailer from 'nodemailer';",
    "import Fastify from 'fastify';",
    "import pino from 'pino';",
    "import { z } from 'zod';",
    "export { z } from 'zod';",
    "import { loadConfig } from '../config.js';",
    "import { deployments } from '../db/schema/deployments.js';",
    "import { newId } from '../lib/ids.js';",
    "import x from '/abs/path.js';",
    "import x from '../domain-evil/x.js';",
    "const m = await import('node:child_process');",
    "const m = require('node:net');",
    "import m = require('node:http');",
    "export const env = process.env.X;",
    "export const f = () => fetch('https://example.com');",
    "export const b = Buffer.from('x');",
  ])('flags %s', (line) => {
    expect(domainImportViolations(`${line}\nexport const y = 1;\n`, file)).not.toEqual([]);
  });

  it('accepts relative imports that stay inside domain/, including subfolders', () => {
    const nested = path.join(DOMAIN, 'sub', 'deep.ts');
    expect(domainImportViolations("import { ok } from '../result.js';\nimport { a } from './b.js';", nested)).toEqual([]);
    expect(domainImportViolations("import { ok } from '../../domain/result.js';", nested)).toEqual([]);
    expect(domainImportViolations("import { ok } from '../../lib/ids.js';", nested)).not.toEqual([]);
  });

  it('ignores comments, strings and property names', () => {
    const source = [
      "// import fs from 'node:fs';",
      "/* import { Queue } from 'bullmq'; process.env.X */",
      "export const text = \"import pino from 'pino'; process.env\";",
      'export const shape = { process: 1, fetch: 2 };',
      'export const read = (o: { process: number }) => o.process;',
    ].join('\n');
    expect(domainImportViolations(source, file)).toEqual([]);
    expect(processEnvReads(source)).toEqual([]);
  });

  it('finds every way of reading process.env', () => {
    expect(processEnvReads('const a = process.env.PORT;')).toEqual([1]);
    expect(processEnvReads("const a = process['env'];")).toEqual([1]);
    expect(processEnvReads('const a = globalThis.process.env;')).toEqual([1]);
    expect(processEnvReads('const { env } = process;')).toEqual([1]);
    expect(processEnvReads('const { env: e } = process;')).toEqual([1]);
    expect(processEnvReads("import { env } from 'node:process';")).toEqual([1]);
    expect(processEnvReads("import process from 'node:process';\nconst x = process.env;")).toEqual([2]);
    expect(processEnvReads('spawn(cmd, { env: { ...process.env, LC_ALL: "C" } });')).toEqual([1]);
    expect(processEnvReads('const a = process.argv; const b = process.exitCode;')).toEqual([]);
    expect(processEnvReads('const { argv } = process;')).toEqual([]);
  });
});

describe('architecture: src/domain is pure', () => {
  const files = tsFiles(DOMAIN);

  it('finds the domain files', () => {
    expect(files.length).toBeGreaterThan(3);
    expect(files.map((f) => path.relative(DOMAIN, f))).toEqual(expect.arrayContaining(['lifecycle.ts', 'result.ts', 'email.ts']));
  });

  it('every domain file imports only other domain files, and uses no I/O globals', () => {
    const violations = files.flatMap((file) => domainImportViolations(readFileSync(file, 'utf8'), file));
    expect(violations).toEqual([]);
  });

  it('every relative import of a domain file resolves to an existing domain file', () => {
    const known = new Set(files);
    const missing = files.flatMap((file) =>
      moduleSpecifiers(readFileSync(file, 'utf8'), file)
        .map(({ specifier }) => path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts'))
        .filter((target) => !known.has(target))
        .map((target) => `${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('architecture: the configuration is the only reader of process.env', () => {
  it('no file under src/ but src/config.ts and src/config/ (the .env file) reads process.env', () => {
    const readers = tsFiles(SRC).flatMap((file) =>
      processEnvReads(readFileSync(file, 'utf8'), file).map((line) => `${path.relative(ROOT, file)}:${line}`),
    );
    expect(readers.filter((where) => !where.startsWith('src/config.ts:') && !where.startsWith('src/config/'))).toEqual([]);
    expect(readers.some((where) => where.startsWith('src/config.ts:'))).toBe(true);
  });
});
