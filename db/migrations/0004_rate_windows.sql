CREATE TABLE "rate_windows" (
	"key_id" text PRIMARY KEY NOT NULL,
	"log" bigint[] DEFAULT '{}'::bigint[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
