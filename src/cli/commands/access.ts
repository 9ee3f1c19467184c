import os from 'node:os';
import { Option, type Command } from 'commander';
import { ROLES } from '../../domain/roles.js';
import { EXIT, CommandError } from '../errors.js';
import { printJson, withServices, type CommandRoot } from '../context.js';

const cliActor = () => `cli:${os.userInfo().username}`;

export function registerAccess(program: Command, root: CommandRoot) {
  const access = program.command('access').description('who may cancel, pause and resume (roles: viewer, responder, admin)');

  access
    .command('grant <user>')
    .description('give a Slack user (or CLI actor) a role')
    .addOption(new Option('--role <role>', 'viewer, responder or admin').choices([...ROLES]).makeOptionMandatory())
    .action(async (user: string, options: { role: string }) => {
      await withServices(root, async ({ services }) => {
        const result = await services.access.grant(user, options.role, cliActor());
        if (!result.ok) throw new CommandError(result.reason, EXIT.usage);
        process.stdout.write(`${result.value.userId} is now ${result.value.role}\n`);
      });
    });

  access
    .command('revoke <user>')
    .description('remove a user\'s access')
    .action(async (user: string) => {
      await withServices(root, async ({ services }) => {
        const result = await services.access.revoke(user, cliActor());
        if (!result.ok) throw new CommandError(result.reason, result.code === 'not_found' ? EXIT.refused : EXIT.usage);
        process.stdout.write(`${user} no longer has access (was ${result.value.role})\n`);
      });
    });

  access
    .command('list')
    .description('list users and their roles')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withServices(root, async ({ services }) => {
        const rows = await services.access.list();
        if (options.json) {
          printJson({ operators: rows.map((r) => ({ user: r.userId, role: r.role, grantedBy: r.grantedBy, grantedAt: r.grantedAt })) });
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('No one has access yet: campaign-guard access grant USER --role responder\n');
          return;
        }
        for (const r of rows) process.stdout.write(`${r.userId.padEnd(24)} ${r.role.padEnd(10)} granted by ${r.grantedBy} at ${r.grantedAt.toISOString()}\n`);
      });
    });
}
