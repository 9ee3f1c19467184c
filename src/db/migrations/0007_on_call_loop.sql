CREATE TABLE "pager_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_id" text NOT NULL,
	"destination" text NOT NULL,
	"action" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "pager_outbox_dedupe_key" UNIQUE("dedupe_key"),
	CONSTRAINT "pager_outbox_destination_check" CHECK ("pager_outbox"."destination" in ('pagerduty', 'webhook')),
	CONSTRAINT "pager_outbox_action_check" CHECK ("pager_outbox"."action" in ('trigger', 'acknowledge', 'resolve')),
	CONSTRAINT "pager_outbox_status_check" CHECK ("pager_outbox"."status" in ('pending', 'delivered', 'superseded', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "acknowledged_by" text;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "snoozed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "snoozed_by" text;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "reannounced_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pager_outbox" ADD CONSTRAINT "pager_outbox_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pager_outbox_due_idx" ON "pager_outbox" USING btree ("next_attempt_at","id") WHERE "pager_outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "pager_outbox_alert_idx" ON "pager_outbox" USING btree ("alert_id","destination","id");