CREATE TABLE "campaigns" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"subject" text NOT NULL,
	"from_address" text NOT NULL,
	"body_text" text NOT NULL,
	"field_names" text[] DEFAULT '{}' NOT NULL,
	"send_at" timestamp with time zone,
	"locked_by" text,
	"locked_at" timestamp with time zone,
	"cancelled_by" text,
	"cancelled_at" timestamp with time zone,
	"cancel_reason" text,
	"alert_policy" jsonb,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaigns_kind_check" CHECK ("campaigns"."kind" in ('single', 'multi')),
	CONSTRAINT "campaigns_status_check" CHECK ("campaigns"."status" in ('draft', 'scheduled', 'sending', 'paused', 'completed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"position" integer NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"send_at" timestamp with time zone,
	"batch_interval_ms" integer DEFAULT 0 NOT NULL,
	"prefetched_count" integer DEFAULT 0 NOT NULL,
	"total_count" integer DEFAULT 0 NOT NULL,
	"in_flight_count" integer DEFAULT 0 NOT NULL,
	"sent_count" integer DEFAULT 0 NOT NULL,
	"bounced_count" integer DEFAULT 0 NOT NULL,
	"failed_count" integer DEFAULT 0 NOT NULL,
	"unknown_count" integer DEFAULT 0 NOT NULL,
	"cancelled_count" integer DEFAULT 0 NOT NULL,
	"paused_by" text,
	"paused_at" timestamp with time zone,
	"cancelled_by" text,
	"cancelled_at" timestamp with time zone,
	"cancel_reason" text,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deployments_status_check" CHECK ("deployments"."status" in ('draft', 'scheduled', 'prefetching', 'prefetched', 'sending', 'paused', 'completed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "batches" (
	"id" text PRIMARY KEY NOT NULL,
	"deployment_id" text NOT NULL,
	"position" integer NOT NULL,
	"status" text NOT NULL,
	"send_at" timestamp with time zone,
	"first_seq" integer NOT NULL,
	"last_seq" integer NOT NULL,
	"total_count" integer DEFAULT 0 NOT NULL,
	"in_flight_count" integer DEFAULT 0 NOT NULL,
	"sent_count" integer DEFAULT 0 NOT NULL,
	"bounced_count" integer DEFAULT 0 NOT NULL,
	"failed_count" integer DEFAULT 0 NOT NULL,
	"unknown_count" integer DEFAULT 0 NOT NULL,
	"cancelled_count" integer DEFAULT 0 NOT NULL,
	"cancelled_by" text,
	"cancelled_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "batches_deployment_position_key" UNIQUE("deployment_id","position"),
	CONSTRAINT "batches_status_check" CHECK ("batches"."status" in ('draft', 'scheduled', 'sending', 'paused', 'completed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "audience_chunks" (
	"deployment_id" text NOT NULL,
	"chunk_no" integer NOT NULL,
	"first_seq" integer NOT NULL,
	"row_count" integer NOT NULL,
	"emails" text NOT NULL,
	"fields" text NOT NULL,
	CONSTRAINT "audience_chunks_pkey" PRIMARY KEY("deployment_id","chunk_no")
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"deployment_id" text NOT NULL,
	"seq" integer NOT NULL,
	"batch_id" text NOT NULL,
	"email" text NOT NULL,
	"fields" json NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"claimed_by" text,
	"claim_expires_at" timestamp with time zone,
	"message_id" text,
	"smtp_code" smallint,
	"smtp_reply" text,
	"handed_over_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deliveries_pkey" PRIMARY KEY("deployment_id","seq"),
	CONSTRAINT "deliveries_status_check" CHECK ("deliveries"."status" in ('pending', 'claimed', 'sent', 'failed', 'bounced', 'unknown', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "provider_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"subtype" text,
	"deployment_id" text,
	"seq" integer,
	"message_id" text,
	"recipient" text,
	"disposition" text NOT NULL,
	"occurred_at" timestamp with time zone,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb,
	CONSTRAINT "provider_events_provider_event_key" UNIQUE("provider","event_id")
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"deployment_id" text NOT NULL,
	"metric" text NOT NULL,
	"severity" text NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"rate" double precision NOT NULL,
	"sample" integer NOT NULL,
	"threshold" double precision NOT NULL,
	"top_domains" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"auto_paused" text,
	"slack_channel" text,
	"slack_ts" text,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"escalated_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alerts_metric_check" CHECK ("alerts"."metric" in ('bounce', 'error', 'complaint')),
	CONSTRAINT "alerts_severity_check" CHECK ("alerts"."severity" in ('warning', 'critical')),
	CONSTRAINT "alerts_state_check" CHECK ("alerts"."state" in ('open', 'resolved'))
);
--> statement-breakpoint
CREATE TABLE "slack_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"alert_id" text,
	"channel" text,
	"thread_ts" text,
	"user_id" text,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"delivered_ts" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "slack_outbox_dedupe_key" UNIQUE("dedupe_key"),
	CONSTRAINT "slack_outbox_kind_check" CHECK ("slack_outbox"."kind" in ('post', 'update', 'thread_reply', 'ephemeral')),
	CONSTRAINT "slack_outbox_status_check" CHECK ("slack_outbox"."status" in ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"actor_team" text,
	"action" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"outcome" text NOT NULL,
	"reason" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_key" text,
	CONSTRAINT "audit_log_request_key" UNIQUE("request_key")
);
--> statement-breakpoint
CREATE TABLE "operators" (
	"user_id" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"team_id" text,
	"granted_by" text NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "operators_role_check" CHECK ("operators"."role" in ('viewer', 'responder', 'admin'))
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audience_chunks" ADD CONSTRAINT "audience_chunks_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaigns_name_idx" ON "campaigns" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "deployments_campaign_idx" ON "deployments" USING btree ("campaign_id","position");--> statement-breakpoint
CREATE INDEX "deployments_name_idx" ON "deployments" USING btree (lower("name"));--> statement-breakpoint
CREATE INDEX "deployments_active_idx" ON "deployments" USING btree ("status","send_at") WHERE "deployments"."status" in ('scheduled', 'prefetching', 'prefetched', 'sending', 'paused');--> statement-breakpoint
CREATE INDEX "batches_send_at_idx" ON "batches" USING btree ("send_at") WHERE "batches"."status" = 'scheduled';--> statement-breakpoint
CREATE INDEX "deliveries_pending_idx" ON "deliveries" USING btree ("deployment_id","batch_id","seq") WHERE "deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "deliveries_claimed_idx" ON "deliveries" USING btree ("claim_expires_at") WHERE "deliveries"."status" = 'claimed';--> statement-breakpoint
CREATE INDEX "deliveries_status_idx" ON "deliveries" USING btree ("deployment_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_message_id_key" ON "deliveries" USING btree ("message_id") WHERE "deliveries"."message_id" is not null;--> statement-breakpoint
CREATE INDEX "provider_events_deployment_idx" ON "provider_events" USING btree ("deployment_id","type");--> statement-breakpoint
CREATE INDEX "provider_events_orphan_idx" ON "provider_events" USING btree ("message_id") WHERE "provider_events"."disposition" = 'orphan';--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_open_key" ON "alerts" USING btree ("deployment_id","metric") WHERE "alerts"."state" = 'open';--> statement-breakpoint
CREATE INDEX "alerts_deployment_idx" ON "alerts" USING btree ("deployment_id");--> statement-breakpoint
CREATE INDEX "slack_outbox_due_idx" ON "slack_outbox" USING btree ("next_attempt_at","id") WHERE "slack_outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("target_type","target_id","at");