// `score FILE --scenario ID`: the post-call analytics and rubric scorecard on a transcript file, so a
// manager can test a rubric before assigning it. Nothing is stored.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { scoreTranscript, type ScoreTranscriptResult, type ScoringDeps } from '../app/score_transcript.js';
import { systemActor } from '../domain/access.js';
import { invalidInput } from '../domain/errors.js';
import { clock } from '../domain/scorecard.js';
import { collect, output, toNumber, type CliCommandModule } from './program.js';

function render(result: ScoreTranscriptResult): string {
  const a = result.analytics;
  const card = result.scorecard;
  const lines = [
    `Scenario: ${result.scenario.title} (${result.scenario.id})`,
    '',
    card.status === 'scored'
      ? `Scorecard: ${card.overallScore}/100${card.passed === null ? '' : card.passed ? ', passed' : ', not passed'}  (${card.model}, ${card.promptVersion})`
      : `Scorecard unavailable: ${card.reason}`,
    ...card.reviewReasons.map((reason) => `NEEDS REVIEW: ${reason}`),
  ];
  if (card.status === 'scored') {
    lines.push(card.summary);
    for (const criterion of card.criteria) {
      lines.push(`  ${criterion.name} (weight ${criterion.weight}): ${criterion.score}/100`);
      lines.push(`    evidence:  ${criterion.evidence ? `"${criterion.evidence}"` : '(nothing in the call)'}`);
      lines.push(`    next time: ${criterion.suggestion}`);
    }
  }
  const value = (figure: number | null, unit = '') => (figure === null ? 'n/a (no times in the transcript)' : `${figure}${unit}`);
  lines.push(
    '',
    'Delivery:',
    `  rep talk ratio        ${a.repTalkRatio === null ? value(null) : `${Math.round(a.repTalkRatio * 100)}%`}`,
    `  rep words per minute  ${value(a.repWordsPerMinute)}`,
    `  filler words          ${a.fillerWordCount} (${value(a.fillerWordsPerMinute, ' per minute')})${Object.keys(a.fillerWordsFound).length ? `: ${Object.entries(a.fillerWordsFound).map(([word, n]) => `${word} x${n}`).join(', ')}` : ''}`,
    `  longest monologue     ${value(a.longestRepMonologueSeconds, ' s')}`,
    `  questions asked       ${a.questionsAsked} (first after ${value(a.timeToFirstQuestionSeconds, ' s')})`,
    `  interruptions         rep interrupted persona ${a.personaInterruptedByRep}x, persona interrupted rep ${a.repInterruptedByPersona}x`,
    '',
    'Transcript:',
    ...result.transcript.map((turn) => `  [${clock(turn.startSeconds * 1000)}] ${turn.speaker === 'rep' ? 'Rep' : 'Persona'}: ${turn.text}`),
  );
  return lines.join('\n');
}

/** `scoring` is built by the CLI's main from config (the Groq scorecard model, or null). */
export function createScoreCommand(scoring: ScoringDeps): CliCommandModule {
  return (program, context) => {
    program
      .command('score')
      .description('score a transcript file (JSON, or "Speaker: text" lines with optional [mm:ss]) against a scenario rubric')
      .argument('<file>', 'transcript file; "-" reads stdin')
      .requiredOption('--scenario <id>', 'scenario id')
      .option('--pass-mark <n>', 'pass mark 0-100 to judge against', toNumber)
      .option('--rep-label <label>', 'speaker label of the rep (repeatable; "Rep", "Me", "Caller" are known)', collect)
      .action(async (file: string, options: { scenario: string; passMark?: number; repLabel?: string[] }, command: Command) => {
        let transcript: string;
        try {
          transcript = file === '-' ? await context.io.readStdin() : await readFile(file, 'utf8');
        } catch (error) {
          throw invalidInput(`cannot read ${file}: ${(error as Error).message}`, { file: 'cannot be read' });
        }
        const deps = await context.deps();
        const result = await scoreTranscript({ ...scoring, db: deps.db }, systemActor, {
          scenarioId: options.scenario,
          transcript,
          ...(options.passMark === undefined ? {} : { passMark: options.passMark }),
          ...(options.repLabel ? { repLabels: options.repLabel } : {}),
        });
        output(context, command, result, () => render(result));
      });
  };
}
