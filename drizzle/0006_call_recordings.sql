CREATE TYPE "public"."recording_status" AS ENUM('recording', 'complete', 'deleted');--> statement-breakpoint
CREATE TABLE "recordings" (
	"call_id" uuid PRIMARY KEY NOT NULL,
	"status" "recording_status" DEFAULT 'recording' NOT NULL,
	"content_type" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"duration_ms" integer,
	"bytes" integer,
	"chunks" integer DEFAULT 0 NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text,
	"retention_days" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "calls" ADD COLUMN "transcript_deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "scenarios" ADD COLUMN "record_calls" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_call_id_calls_id_fk" FOREIGN KEY ("call_id") REFERENCES "public"."calls"("id") ON DELETE cascade ON UPDATE no action;