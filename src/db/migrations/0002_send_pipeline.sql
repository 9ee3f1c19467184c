ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_deployment_id_deployments_id_fk";
--> statement-breakpoint
DROP INDEX "deliveries_pending_idx";--> statement-breakpoint
DROP INDEX "deliveries_status_idx";--> statement-breakpoint
DROP INDEX "deliveries_message_id_key";--> statement-breakpoint
DROP INDEX "deliveries_claimed_idx";--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "fields" SET DATA TYPE text USING "fields"::text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "generation" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "prefetched_chunks" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "ledger_closed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "triggered_generation" integer DEFAULT -1 NOT NULL;--> statement-breakpoint
CREATE INDEX "deliveries_claimed_idx" ON "deliveries" USING btree ("claimed_by","claim_expires_at") WHERE "deliveries"."status" = 'claimed';