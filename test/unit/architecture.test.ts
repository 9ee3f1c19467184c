import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §2: `domain/` is pure TypeScript — it imports nothing but other domain files — and
 * the configuration (`config.ts`, `config/`) is the only reader of `process.env`; imports point
 * inward between the layers (LAYERS below); and only the composition root (`src/app/`) connects
 * clients and builds services. All are checked on the parsed source (the
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

/**
 * Layers of src/, by top folder (or file): each may import only itself and the layers listed.
 * Inner to outer: domain ← lib ← config, db ← services ← adapters (mail, queue, slack, http,
 * paging, cli) ← app (the composition root) ← main. The few arrows between adapters are named here.
 */
const LAYERS: Record<string, string[]> = {
  domain: [],
  lib: ['domain'],
  config: ['domain', 'lib'],
  db: ['domain', 'lib'],
  services: ['domain', 'lib', 'db'],
  mail: ['domain', 'lib', 'services'],
  // The stop watcher polls Postgres for the statuses of what it sends.
  queue: ['domain', 'lib', 'db', 'services'],
  slack: ['domain', 'lib', 'config', 'db', 'services'],
  http: ['domain', 'lib', 'config', 'db', 'services'],
  // A page's summary writes the rates as the alert message does.
  paging: ['domain', 'lib', 'config', 'db', 'services', 'slack'],
  // The demo prints the Slack messages it would post.
  cli: ['domain', 'lib', 'config', 'services', 'slack'],
  app: ['domain', 'lib', 'config', 'db', 'services', 'mail', 'queue', 'slack', 'http', 'paging', 'cli'],
  main: ['lib', 'config', 'cli', 'app'],
};

/** The layer of a file under src/ (`config.ts` and `config/` are one layer). */
function layerOf(file: string, srcDir = SRC): string {
  const first = path.relative(srcDir, file).split(path.sep)[0]!;
  return first.replace(/\.(ts|js)$/, '');
}

/** Why each relative import of a source file breaks the direction of the layers. */
export function layerViolations(source: string, filePath: string, srcDir = SRC): string[] {
  const from = layerOf(filePath, srcDir);
  const allowed = LAYERS[from];
  const where = path.relative(ROOT, filePath);
  if (!allowed) return [`${where} is in no layer (src/${from}): add it to LAYERS`];
  const problems: string[] = [];
  for (const { specifier, line } of moduleSpecifiers(source, filePath)) {
    if (!specifier.startsWith('.')) continue;
    const target = path.resolve(path.dirname(filePath), specifier);
    const inside = path.relative(srcDir, target);
    if (inside.startsWith('..')) {
      problems.push(`${where}:${line} imports ${JSON.stringify(specifier)}, which leaves src/`);
      continue;
    }
    const to = layerOf(target, srcDir);
    if (to !== from && !allowed.includes(to)) problems.push(`${where}:${line} (${from}) imports ${JSON.stringify(specifier)} (${to}): ${from} may import only ${allowed.join(', ') || 'itself'}`);
  }
  return problems;
}

/**
 * Client constructors of the libraries we connect with (`module:export`, `.member` for a member
 * of an export), each called in the one adapter file that wraps it and nowhere else.
 */
const CLIENT_CONSTRUCTORS: Record<string, string[]> = {
  'bullmq:Worker': ['src/queue/workers.ts'],
  'bullmq:Queue': ['src/queue/queues.ts'],
  'bullmq:QueueEvents': [],
  'bullmq:FlowProducer': [],
  'ioredis:Redis': ['src/queue/redis.ts'],
  'ioredis:Cluster': ['src/queue/redis.ts'],
  'ioredis:default': ['src/queue/redis.ts'],
  'postgres:default': ['src/db/client.ts', 'src/db/migrate.ts', 'src/lib/embedded/postgres.ts'],
  'drizzle-orm/postgres-js:drizzle': ['src/db/client.ts', 'src/db/migrate.ts'],
  '@slack/bolt:App': ['src/slack/app.ts'],
  '@slack/bolt:SocketModeReceiver': ['src/slack/socket-mode.ts'],
  '@slack/bolt:webApi.WebClient': ['src/slack/app.ts'],
  '@slack/web-api:WebClient': [],
  'nodemailer:createTransport': [],
  'nodemailer/lib/smtp-connection/index.js:default': ['src/mail/transport.ts'],
  'smtp-server:SMTPServer': ['src/mail/sink.ts'],
  'fastify:default': ['src/http/server.ts'],
};

/**
 * The adapters' factories that connect a client or start a server (each checked to be defined
 * where named), and the services' factories: only the composition root (src/app/) calls them.
 * A service's factory may also be called by a file beside it (a processor building its parts).
 */
const ROOT_ONLY_FACTORIES: Record<string, string> = {
  createRedis: 'src/queue/redis.ts',
  createQueues: 'src/queue/queues.ts',
  startSendingWorkers: 'src/queue/workers.ts',
  createStopWatcher: 'src/queue/stop-signal.ts',
  createStopAnnouncer: 'src/queue/stop-signal.ts',
  createRateLimiter: 'src/queue/rate-limiter.ts',
  openDatabase: 'src/db/client.ts',
  runMigrations: 'src/db/migrate.ts',
  startEmbeddedPostgres: 'src/lib/embedded/postgres.ts',
  startEmbeddedRedis: 'src/lib/embedded/redis.ts',
  createSmtpTransport: 'src/mail/transport.ts',
  startSmtpSink: 'src/mail/sink.ts',
  createSlackApp: 'src/slack/app.ts',
  createNotifier: 'src/slack/notifier.ts',
  createPagerDeliverer: 'src/paging/deliverer.ts',
  createHttpServer: 'src/http/server.ts',
};
const COMPOSITION_ROOT = 'src/app/';

/** Exported `create…`/`start…` functions of src/services/, with the file each is defined in. */
function serviceFactories(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of tsFiles(path.join(SRC, 'services'))) {
    const sf = parse(readFileSync(file, 'utf8'), file);
    for (const statement of sf.statements) {
      const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (exported && ts.isFunctionDeclaration(statement) && statement.name && /^(create|start)[A-Z]/.test(statement.name.text)) {
        found.set(statement.name.text, path.relative(ROOT, file));
      }
    }
  }
  return found;
}

/** Who calls what: the library constructors and our root-only factories a source file calls. */
export function constructionViolations(source: string, filePath: string, services: Map<string, string> = serviceFactories()): string[] {
  const where = path.relative(ROOT, filePath);
  if (where.startsWith(COMPOSITION_ROOT)) return [];
  const sf = parse(source, filePath);
  // Local names bound to a client library's exports: local → `module:export`.
  const bound = new Map<string, string>();
  for (const statement of sf.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier) || statement.importClause?.isTypeOnly) continue;
    const module = statement.moduleSpecifier.text;
    const clause = statement.importClause;
    if (clause?.name) bound.set(clause.name.text, `${module}:default`);
    const bindings = clause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) bound.set(element.name.text, `${module}:${(element.propertyName ?? element.name).text}`);
    } else if (bindings && ts.isNamespaceImport(bindings)) {
      bound.set(bindings.name.text, `${module}:*`);
    }
  }
  const constructorName = (callee: ts.Expression): string | undefined => {
    if (ts.isIdentifier(callee)) return bound.get(callee.text);
    if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
      const base = bound.get(callee.expression.text);
      if (!base) return undefined;
      return base.endsWith(':*') ? `${base.slice(0, -1)}${callee.name.text}` : `${base}.${callee.name.text}`;
    }
    return undefined;
  };
  const problems: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node) || ts.isCallExpression(node)) {
      const line = lineOf(sf, node);
      const client = constructorName(node.expression);
      if (client && CLIENT_CONSTRUCTORS[client] && !CLIENT_CONSTRUCTORS[client].includes(where)) {
        problems.push(`${where}:${line} constructs ${client}: only ${CLIENT_CONSTRUCTORS[client].join(', ') || 'the composition root'} may (called from ${COMPOSITION_ROOT})`);
      }
      const name = ts.isIdentifier(node.expression) ? node.expression.text : undefined;
      if (name && ROOT_ONLY_FACTORIES[name]) {
        problems.push(`${where}:${line} calls ${name}: only the composition root (${COMPOSITION_ROOT}) connects clients`);
      }
      const serviceFile = name ? services.get(name) : undefined;
      if (serviceFile && path.dirname(serviceFile) !== path.dirname(where)) {
        problems.push(`${where}:${line} calls ${name} (${serviceFile}): only the composition root (${COMPOSITION_ROOT}) builds services`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return problems;
}

describe('architecture: imports point inward, toward domain/', () => {
  const file = (rel: string) => path.join(SRC, rel);

  it('flags an arrow from a lower layer to a higher one, naming the import', () => {
    const violations = layerViolations("import { startSendingWorkers } from '../../queue/workers.js';\n", file('services/sending/send-job.ts'));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain('src/services/sending/send-job.ts:1 (services) imports "../../queue/workers.js" (queue)');
    for (const [source, at] of [
      ["import type { Transport } from '../mail/transport.js';", 'services/x.ts'],
      ["import { loadConfig } from '../config.js';", 'services/x.ts'],
      ["import type { Config } from '../config.js';", 'db/x.ts'],
      ["import { buildServices } from '../app/services.js';", 'cli/x.ts'],
      ["import { createSlackApp } from '../slack/app.js';", 'http/x.ts'],
      ["import { newId } from '../lib/ids.js';", 'domain/x.ts'],
      ["const m = await import('../queue/redis.js');", 'services/x.ts'],
      ["import x from '../../outside.js';", 'lib/x.ts'],
    ]) {
      expect(layerViolations(source!, file(at!)), source).not.toEqual([]);
    }
  });

  it('accepts arrows that point inward, and imports within a layer', () => {
    expect(layerViolations("import { ok } from '../domain/result.js';\nimport type { Transport } from './ports.js';", file('services/x.ts'))).toEqual([]);
    expect(layerViolations("import type { Transport } from '../services/ports.js';\nimport { parseSmtpUrl } from '../lib/smtp-url.js';", file('mail/x.ts'))).toEqual([]);
    expect(layerViolations("import { ConfigError } from '../lib/config-error.js';", file('config/x.ts'))).toEqual([]);
    expect(layerViolations("import { alertsConfig } from './config/alerts.js';", file('config.ts'))).toEqual([]);
    expect(layerViolations("import { startApp } from './app/serve.js';", file('main.ts'))).toEqual([]);
  });

  it('no file under src/ imports a layer outside its own and those listed for it', () => {
    const files = tsFiles(SRC);
    expect(new Set(files.map((f) => layerOf(f)))).toEqual(new Set(Object.keys(LAYERS)));
    const violations = files.flatMap((f) => layerViolations(readFileSync(f, 'utf8'), f));
    expect(violations).toEqual([]);
  });
});

describe('architecture: only the composition root connects clients and builds services', () => {
  const services = serviceFactories();
  const file = (rel: string) => path.join(SRC, rel);

  it('finds the service factories', () => {
    expect(services.get('createControlService')).toBe('src/services/control.ts');
    expect(services.get('createSendJobProcessor')).toBe('src/services/sending/send-job.ts');
    expect(services.get('createPauseResume')).toBe('src/services/sending/pause-resume.ts');
  });

  it('every root-only factory is defined where the rule says', () => {
    const missing = Object.entries(ROOT_ONLY_FACTORIES).filter(([name, at]) => !new RegExp(`export (async )?function ${name}\\b`).test(readFileSync(path.join(ROOT, at), 'utf8')));
    expect(missing).toEqual([]);
  });

  it.each([
    ["import { Worker } from 'bullmq';\nnew Worker('send', async () => undefined);", 'queue/runtime.ts', 'bullmq:Worker'],
    ["import { Queue as Q } from 'bullmq';\nnew Q('send');", 'services/x.ts', 'bullmq:Queue'],
    ["import * as bull from 'bullmq';\nnew bull.Worker('send', async () => undefined);", 'queue/x.ts', 'bullmq:Worker'],
    ["import { App } from '@slack/bolt';\nnew App({});", 'slack/listeners/x.ts', '@slack/bolt:App'],
    ["import { webApi } from '@slack/bolt';\nnew webApi.WebClient('t');", 'slack/writer.ts', '@slack/bolt:webApi.WebClient'],
    ["import postgres from 'postgres';\npostgres('postgres://x');", 'services/x.ts', 'postgres:default'],
    ["import { createRedis } from './redis.js';\ncreateRedis('redis://x', 'n', log);", 'queue/x.ts', 'createRedis'],
    ["import { openDatabase } from '../db/client.js';\nawait openDatabase('u', {});", 'cli/x.ts', 'openDatabase'],
    ["import { createSmtpTransport } from '../mail/transport.js';\ncreateSmtpTransport({});", 'http/x.ts', 'createSmtpTransport'],
    ["import { createControlService } from '../services/control.js';\ncreateControlService({});", 'slack/x.ts', 'createControlService'],
    ["import { createSendJobProcessor } from '../services/sending/send-job.js';\ncreateSendJobProcessor({});", 'queue/x.ts', 'createSendJobProcessor'],
  ])('flags %s in src/%s', (source, at, named) => {
    const violations = constructionViolations(source, file(at), services);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain(named);
    expect(constructionViolations(source, file(`app/${path.basename(at)}`), services)).toEqual([]);
  });

  it('allows the wrapper file its client, type-only imports, and a processor building its own parts', () => {
    expect(constructionViolations("import { Worker } from 'bullmq';\nnew Worker('send', async () => undefined);", file('queue/workers.ts'), services)).toEqual([]);
    expect(constructionViolations("import type { Queue } from 'bullmq';\nconst q: Queue = make();", file('services/x.ts'), services)).toEqual([]);
    expect(constructionViolations("import { createLaneSlots } from './lane-slots.js';\ncreateLaneSlots({});", file('services/sending/send-job.ts'), services)).toEqual([]);
  });

  it('no file under src/ outside src/app/ constructs a client or builds a service', () => {
    const violations = tsFiles(SRC).flatMap((f) => constructionViolations(readFileSync(f, 'utf8'), f, services));
    expect(violations).toEqual([]);
  });
});
