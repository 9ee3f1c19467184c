import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { planBatches } from '../../domain/batches.js';
import type { Kind } from '../../domain/lifecycle.js';
import { checkTemplate } from '../../domain/merge.js';
import { ok, refused, type Result } from '../../domain/result.js';
import { inTransaction, type DatabaseHandle } from '../../db/client.js';
import { recordAudit } from '../../db/queries/audit.js';
import { insertBatches } from '../../db/queries/batches.js';
import { insertCampaign, setCampaignFieldNames } from '../../db/queries/campaigns.js';
import { insertDeployments, setDeploymentTotal } from '../../db/queries/deployments.js';
import { newId } from '../../lib/ids.js';
import { createChunkWriter } from './audience-chunks.js';
import type { BlockValidator } from './audience-workers.js';
import { AudienceFileError, MAX_LISTED_PROBLEMS, readAudience, type RowProblem } from './audience-csv.js';

export interface CreateCampaignInput {
  name: string;
  kind: Kind;
  deployments: number;
  subject: string;
  from: string;
  body: string;
  /** null: a draft, nothing is scheduled. */
  sendAt: Date | null;
  batches: number;
  batchIntervalMs: number;
  /** Its deployments' share when several send at once (default: normal, like every other). */
  sendWeight?: number;
  strict: boolean;
  actor: string;
  recipients: Readable;
  /** A guess of the row count (file size / 40 is close for typical lists), for sizing. */
  expectedRows?: number;
  onProgress?: (rowsImported: number) => void;
}

export interface CreatedCampaign {
  campaignId: string;
  deploymentIds: string[];
  status: 'draft' | 'scheduled';
  imported: number;
  perDeployment: number[];
  invalidCount: number;
  duplicateCount: number;
  /** The first MAX_LISTED_PROBLEMS problems, in file order. */
  problems: RowProblem[];
  /** Merge fields of the subject or body that the file has no column for: they render empty. */
  unknownFields: string[];
}

export type CreateCampaignRefusal = 'bad_file' | 'strict_refused' | 'empty_audience' | 'bad_template';
export type CreateCampaignOutcome = Result<CreatedCampaign, CreateCampaignRefusal> & {
  problems?: RowProblem[];
  invalidCount?: number;
  duplicateCount?: number;
};

class StrictRefusal extends Error {}
class TemplateRefusal extends Error {}
class EmptyAudience extends Error {}

const PROGRESS_EVERY = 10_000;


export function createCampaignCreator(deps: { database: DatabaseHandle; clock: () => Date; validateBlock?: BlockValidator }) {
  return async function createCampaign(input: CreateCampaignInput): Promise<CreateCampaignOutcome> {
    const now = deps.clock();
    const campaignId = newId('campaign');
    const deploymentIds = Array.from({ length: input.deployments }, () => newId('deployment'));
    const status = input.sendAt ? 'scheduled' : 'draft';
    const problems: RowProblem[] = [];
    let invalidCount = 0;
    let duplicateCount = 0;
    const perDeployment = deploymentIds.map(() => 0);
    let fieldNames: string[] = [];
    const unknownFields: string[] = [];

    try {
      await inTransaction(deps.database, async (tx, sql) => {
        await insertCampaign(tx, {
          id: campaignId,
          name: input.name,
          kind: input.kind,
          status,
          subject: input.subject,
          fromAddress: input.from,
          bodyText: input.body,
          sendAt: input.sendAt,
          ...(input.sendWeight !== undefined ? { sendWeight: input.sendWeight } : {}),
          createdBy: input.actor,
          createdAt: now,
          updatedAt: now,
        });
        await insertDeployments(
          tx,
          deploymentIds.map((id, i) => ({
            id,
            campaignId,
            position: i + 1,
            name: input.deployments === 1 ? input.name : `${input.name} (${i + 1} of ${input.deployments})`,
            status,
            sendAt: input.sendAt,
            batchIntervalMs: input.batchIntervalMs,
            createdAt: now,
            updatedAt: now,
          })),
        );

        const copy = await sql`copy audience_chunks (deployment_id, chunk_no, first_seq, row_count, emails, fields) from stdin`.writable();
        const copyDone = once(copy, 'finish');
        const chunks = createChunkWriter(copy, deploymentIds);
        let imported = 0;
        const reading = readAudience(input.recipients, {
          deploymentCount: input.deployments,
          onHeader(names) {
            fieldNames = names;
            // Checked against the file's columns before a row is read.
            for (const [label, template] of [['--subject', input.subject], ['--body', input.body]] as const) {
              const checked = checkTemplate(template, label, names);
              if (!checked.ok) throw new TemplateRefusal(checked.reason);
              for (const name of checked.value.unknownFields) if (!unknownFields.includes(name)) unknownFields.push(name);
            }
          },
          onProblem(problem) {
            if (problem.kind === 'invalid') invalidCount++;
            else duplicateCount++;
            if (problems.length < MAX_LISTED_PROBLEMS) problems.push(problem);
          },
          onPiece(deployment, count, emails, fields) {
            chunks.addPiece(deployment, count, emails, fields);
            const before = imported;
            imported += count;
            if (Math.floor(imported / PROGRESS_EVERY) > Math.floor(before / PROGRESS_EVERY)) input.onProgress?.(imported);
          },
          afterBlock: () => chunks.drain(),
          validate: deps.validateBlock,
          expectedRows: input.expectedRows,
        });
        try {
          await reading;
        } catch (error) {
          // Abort the COPY (CopyFail) so the transaction can roll back on this connection.
          copy.destroy(error as Error);
          await copyDone.catch(() => undefined);
          throw error;
        }
        await chunks.finish();
        copy.end();
        await copyDone;
        input.onProgress?.(imported);
        chunks.totals().forEach((total, i) => (perDeployment[i] = total));

        if (input.strict && invalidCount + duplicateCount > 0) throw new StrictRefusal();
        if (imported === 0) throw new EmptyAudience();

        await setCampaignFieldNames(tx, campaignId, fieldNames);
        for (const [i, deploymentId] of deploymentIds.entries()) {
          const total = perDeployment[i]!;
          await setDeploymentTotal(tx, deploymentId, total);
          await insertBatches(
            tx,
            planBatches(total, input.batches, input.sendAt, input.batchIntervalMs).map((plan) => ({
              id: newId('batch'),
              deploymentId,
              position: plan.position,
              status: status === 'draft' ? 'draft' : 'scheduled',
              sendAt: plan.sendAt,
              firstSeq: plan.firstSeq,
              lastSeq: plan.lastSeq,
              totalCount: plan.total,
              createdAt: now,
              updatedAt: now,
            })),
          );
        }
        await recordAudit(tx, {
          at: now,
          actor: input.actor,
          action: 'campaign.create',
          targetType: 'campaign',
          targetId: campaignId,
          outcome: 'ok',
          details: { kind: input.kind, deploymentIds, imported, invalidCount, duplicateCount, sendAt: input.sendAt, sendWeight: input.sendWeight },
        });
      });
    } catch (error) {
      const summary = { problems, invalidCount, duplicateCount };
      if (error instanceof StrictRefusal) {
        return {
          ...refused(
            'strict_refused',
            `--strict: the file was refused, nothing was imported (${invalidCount} invalid and ${duplicateCount} duplicate rows)`,
          ),
          ...summary,
        };
      }
      if (error instanceof EmptyAudience) {
        return { ...refused('empty_audience', 'the file has no valid recipients; nothing was created'), ...summary };
      }
      if (error instanceof AudienceFileError) return { ...refused('bad_file', error.message), ...summary };
      if (error instanceof TemplateRefusal) return { ...refused('bad_template', error.message), ...summary };
      throw error;
    }

    return ok({
      campaignId,
      deploymentIds,
      status,
      imported: perDeployment.reduce((a, b) => a + b, 0),
      perDeployment,
      invalidCount,
      duplicateCount,
      problems,
      unknownFields,
    });
  };
}
