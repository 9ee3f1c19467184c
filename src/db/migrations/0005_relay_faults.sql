CREATE TABLE "relay_faults" (
	"id" text PRIMARY KEY NOT NULL,
	"cause" text NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"deployment_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resumed_by" text,
	"resumed_at" timestamp with time zone,
	"slack_channel" text,
	"slack_ts" text,
	CONSTRAINT "relay_faults_state_check" CHECK ("relay_faults"."state" in ('open', 'resumed'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "relay_faults_open_key" ON "relay_faults" USING btree ("state") WHERE "relay_faults"."state" = 'open';