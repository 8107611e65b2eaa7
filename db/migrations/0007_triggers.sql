CREATE TABLE "trigger_events" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"server_id" text NOT NULL,
	"attachment_id" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"event" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "server_tools" ADD COLUMN "tool_type" text DEFAULT 'ACTION' NOT NULL;--> statement-breakpoint
ALTER TABLE "server_tools" ADD COLUMN "webhook_secret" text;--> statement-breakpoint
CREATE INDEX "trigger_events_attachment_received" ON "trigger_events" USING btree ("attachment_id","received_at");--> statement-breakpoint
CREATE INDEX "trigger_events_received" ON "trigger_events" USING btree ("received_at");