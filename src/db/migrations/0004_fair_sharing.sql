ALTER TABLE "campaigns" ADD COLUMN "send_weight" double precision DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "last_hand_off_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_send_weight_check" CHECK ("campaigns"."send_weight" > 0);