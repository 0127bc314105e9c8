ALTER TABLE "calls" ADD COLUMN "agent_finished_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "transcript_incomplete" boolean DEFAULT false NOT NULL;