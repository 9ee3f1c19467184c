CREATE TABLE "alert_watches" (
	"deployment_id" text NOT NULL,
	"metric" text NOT NULL,
	"level" text DEFAULT 'ok' NOT NULL,
	"candidate" text,
	"candidate_since" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_watches_pkey" PRIMARY KEY("deployment_id","metric"),
	CONSTRAINT "alert_watches_level_check" CHECK ("alert_watches"."level" in ('ok', 'warning', 'critical')),
	CONSTRAINT "alert_watches_candidate_check" CHECK ("alert_watches"."candidate" is null or "alert_watches"."candidate" in ('ok', 'warning', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "deployment_samples" (
	"deployment_id" text NOT NULL,
	"taken_at" timestamp with time zone NOT NULL,
	"attempted" integer NOT NULL,
	"sent" integer NOT NULL,
	"bounced" integer NOT NULL,
	"errors" integer NOT NULL,
	"complaints" integer NOT NULL,
	CONSTRAINT "deployment_samples_pkey" PRIMARY KEY("deployment_id","taken_at")
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "complaint_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "feedback_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "complained_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "stats" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "deployments_feedback_idx" ON "deployments" USING btree ("feedback_at") WHERE "deployments"."feedback_at" is not null;