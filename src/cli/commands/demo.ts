import path from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { Config } from '../../config.js';
import { checkCampaignSpec } from '../../domain/campaign-spec.js';
import { countsAtCommit, describeOutcome } from '../../domain/cancel-outcome.js';
import { sleep } from '../../lib/processes.js';
import { createPrintWriter } from '../../slack/print-writer.js';
import { commandEnvironment, type CommandRoot } from '../context.js';
import { CommandError } from '../errors.js';
import { STOP_SIGNALS } from '../../lib/shutdown.js';

/**
 * The whole story on one machine, with nothing configured: a `multi` campaign whose second list
 * has a bad segment, sent to the local capture sink (which refuses `.invalid` domains with 550),
 * live progress, the bounce alert as the Slack message reads, a responder's cancel through the
 * same service Slack calls, the halt, the thread confirmation and a reconciliation table.
 */
const RESPONDER = 'U0DEMORESP';
const PER_DEPLOYMENT = 600;

function audience(): string {
  const lines = ['email,first_name,deployment'];
  for (let i = 1; i <= PER_DEPLOYMENT; i++) lines.push(`reader${i}@example.com,Reader ${i},1`);
  // The second list was bought: one address in six is long gone.
  for (let i = 1; i <= PER_DEPLOYMENT; i++) lines.push(i % 6 === 0 ? `gone${i}@old-list.invalid,Gone ${i},2` : `member${i}@example.net,Member ${i},2`);
  return `${lines.join('\n')}\n`;
}

/** Demo tuning: verdicts from 50 messages at once, a visible pace; everything else as configured. */
function demoConfig(config: Config): Config {
  return {
    ...config,
    http: { ...config.http, port: 0, host: '127.0.0.1' },
    sending: { ...config.sending, ratePerSecond: Math.min(config.sending.ratePerSecond, 60), prefetchLeadSeconds: 0 },
    alerts: { ...config.alerts, minSample: 50, sustainSeconds: 0 },
  };
}

/** Where a demo run's logs go (made anew each run). */
const demoLogFile = (config: Config) => path.join(config.dataDir, 'demo.log');

/** Relative to the working directory when it is under it (`.data/demo.log`), absolute otherwise. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

export function registerDemo(program: Command, root: CommandRoot) {
  program
    .command('demo')
    .description('the whole story on this machine with nothing configured: a send, a bounce alert, a cancel')
    .option('--keep-running', 'with Slack configured: stay up after the story, so a person can click in Slack')
    .action(async (options: { keepRunning?: boolean }) => {
      // The story is for a person: the logs go to a file, and the story says where.
      const env = commandEnvironment('info', demoLogFile);
      const out = (text: string) => process.stdout.write(text);
      out(`Logs of this run: ${displayPath(demoLogFile(env.config))}\n\n`);
      const slackOn = env.config.slack.mode !== 'off';
      const slackView = createPrintWriter(out, { held: true });
      const app = await root.startApp(demoConfig(env.config), env.logger, { role: 'all', slackOffWriter: slackView });
      try {
        const { services } = app;
        const spec = checkCampaignSpec(
          { name: `Demo ${new Date().toISOString().slice(0, 16)}`, kind: 'multi', deployments: 2, sendAt: 'now', batches: 2, batchIntervalMs: 60_000 },
          new Date(),
        );
        if (!spec.ok) throw new CommandError(spec.reason);
        out(`1. A multi campaign: two deployments of ${PER_DEPLOYMENT} recipients, each in 2 batches a minute apart.\n   The second list has a bad segment (one address in six at a dead domain).\n`);
        const created = await services.createCampaign({ ...spec.value, body: 'Hello {{first_name}}\n', strict: false, actor: 'demo', recipients: Readable.from([audience()]) });
        if (!created.ok) throw new CommandError(created.reason);
        const { campaignId, deploymentIds } = created.value;
        out(`   campaign ${campaignId}: deployments ${deploymentIds.join(', ')}\n\n2. Sending to the local capture sink (nothing leaves this machine):\n`);

        const counts = async () => {
          const report = await services.status.lookup(campaignId);
          if (!report.ok || report.value.type !== 'campaign') throw new Error('the demo campaign vanished');
          return report.value.deployments;
        };
        // Live progress until the monitor raises the alert.
        let alertSeen = false;
        for (let tick = 0; tick < 120 && !alertSeen; tick++) {
          await sleep(500);
          const ds = await counts();
          out(`   ${ds.map((d) => `${d.name}: ${d.counts.sent} sent, ${d.counts.bounced} bounced of ${d.counts.total}`).join('   |   ')}\n`);
          alertSeen = (await services.alerts.forDeployments(deploymentIds)).length > 0;
        }
        if (!alertSeen) throw new CommandError('the bounce alert did not fire within a minute');
        app.notifier?.kick();
        out(`\n3. The monitor raised an alert; ${slackOn ? 'it is posted to Slack' : 'Slack is off, so here it is as the message reads'}:\n`);
        await sleep(1500);
        slackView.flush();

        await services.access.grant(RESPONDER, 'responder', 'demo');
        out(`\n4. The on-call responder (${RESPONDER}) confirms Cancel — the same service call the Slack modal makes:\n`);
        const started = performance.now();
        const outcome = await services.control.cancel({ target: campaignId, actor: RESPONDER, reason: 'demo: bounce spike on the second list', requestKey: `demo:${campaignId}` });
        out(`   answered in ${(performance.now() - started).toFixed(0)} ms: ${describeOutcome(outcome)}\n`);
        if (outcome.outcome !== 'cancelled') throw new CommandError(`the cancel came back ${outcome.outcome}`);
        const inFlight = outcome.counts.inFlight;

        out(`\n5. The halt: workers stop before their next hand-off; what was on the wire settles.\n`);
        for (let tick = 0; tick < 60; tick++) {
          if ((await counts()).every((d) => d.counts.inFlight === 0)) break;
          await sleep(250);
        }
        app.notifier?.kick();
        // Slack is paced at about a message a second per channel: the edit, the confirmation, the final counts.
        await sleep(4500);
        out(`   The alert is edited in place (no buttons left), and the cancel is confirmed in its thread:\n`);
        slackView.flush();

        const final = await counts();
        out(`\n6. Reconciliation (${inFlight} message(s) were on the wire at the cancel and could not be recalled):\n`);
        const rows = final.map((d) => [d.name, d.status, d.counts.sent, d.counts.bounced, d.counts.failed + d.counts.unknown, countsAtCommit(d.counts).neverSent]);
        const header = ['deployment', 'status', 'sent', 'bounced', 'failed/unknown', 'never sent'];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
        const line = (cells: (string | number)[]) => `   ${cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ')}\n`;
        out(line(header) + rows.map(line).join(''));
        out(`\n   Cancelled is final: nothing can resume or restart it. See it again with: campaign-guard status ${campaignId}\n`);

        const exposed = (await app.metrics.registry.metrics())
          .split('\n')
          .filter((l) => /^campaign_guard_(handoffs_total|post_stop_handoffs_total|alerts_total|cancel_seconds_count|slack_outbox_pending|queue_jobs\{queue="send")/.test(l));
        out(`\n7. What this process's GET /metrics says about the story:\n${exposed.map((l) => `   ${l}`).join('\n')}\n`);

        if (options.keepRunning && slackOn) {
          out(`\nStaying up (Ctrl-C to stop): the app serves ${app.url}; click in Slack.\n`);
          await new Promise<void>((resolve) => {
            for (const signal of STOP_SIGNALS) process.once(signal, () => resolve());
          });
        }
      } finally {
        await app.stop();
        slackView.flush();
      }
    });
}
