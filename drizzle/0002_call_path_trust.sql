ALTER TABLE "pin_attempts" ADD COLUMN "called_number" text;--> statement-breakpoint
ALTER TABLE "pin_attempts" ADD COLUMN "caller_verified" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "scorecards" ADD COLUMN "needs_review" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "scorecards" ADD COLUMN "review_reasons" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "pin_attempts_called_created_idx" ON "pin_attempts" USING btree ("called_number","created_at");--> statement-breakpoint
CREATE INDEX "pin_attempts_created_idx" ON "pin_attempts" USING btree ("created_at");