CREATE TABLE "connections" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"integration" text NOT NULL,
	"end_user_id" text DEFAULT '' NOT NULL,
	"values" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "server_tools" ADD COLUMN "connection_id" text;--> statement-breakpoint
ALTER TABLE "tools" ADD COLUMN "integration" text;--> statement-breakpoint
ALTER TABLE "connections" ADD CONSTRAINT "connections_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "connections_org_user_name_live" ON "connections" USING btree ("org_id","end_user_id","name") WHERE "connections"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "connections_org_integration" ON "connections" USING btree ("org_id","integration");--> statement-breakpoint
ALTER TABLE "server_tools" ADD CONSTRAINT "server_tools_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE no action ON UPDATE no action;