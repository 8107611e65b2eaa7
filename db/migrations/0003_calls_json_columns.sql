ALTER TABLE "calls" ALTER COLUMN "input" SET DATA TYPE json USING "input"::json;--> statement-breakpoint
ALTER TABLE "calls" ALTER COLUMN "output" SET DATA TYPE json USING "output"::json;--> statement-breakpoint
ALTER TABLE "calls" ALTER COLUMN "logs" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "calls" ALTER COLUMN "logs" SET DATA TYPE json USING "logs"::json;--> statement-breakpoint
ALTER TABLE "calls" ALTER COLUMN "logs" SET DEFAULT '[]'::json;
