CREATE TABLE "scenario_stages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"scenario_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"persona_id" uuid NOT NULL,
	"advance_rule" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scenario_stages_position_positive" CHECK ("scenario_stages"."position" >= 1)
);
--> statement-breakpoint
ALTER TABLE "turns" ADD COLUMN "persona_id" uuid;--> statement-breakpoint
ALTER TABLE "scenario_stages" ADD CONSTRAINT "scenario_stages_scenario_id_scenarios_id_fk" FOREIGN KEY ("scenario_id") REFERENCES "public"."scenarios"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scenario_stages" ADD CONSTRAINT "scenario_stages_persona_id_personas_id_fk" FOREIGN KEY ("persona_id") REFERENCES "public"."personas"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "scenario_stages_scenario_position_unique" ON "scenario_stages" USING btree ("scenario_id","position");--> statement-breakpoint
ALTER TABLE "turns" ADD CONSTRAINT "turns_persona_id_personas_id_fk" FOREIGN KEY ("persona_id") REFERENCES "public"."personas"("id") ON DELETE set null ON UPDATE no action;