// The post-call email's fixed text, one table per language (decision 017): call_email.ts renders
// with the table of the call's feedback language. Names, titles, transcript lines and the scorer's
// own words are interpolated as they are; review reasons stay in English (they are for managers
// and come from the code's checks).
import { putThroughLine } from '../domain/handoff.js';
import { baseLanguage, type BaseLanguage } from '../domain/languages.js';

export interface CallEmailText {
  hi(name: string): string;
  subjectRep(title: string, outcome: string): string;
  subjectManager(rep: string, title: string, outcome: string): string;
  introRep(persona: string): string;
  introManager(rep: string, persona: string): string;
  scenario: string;
  seeTheCall: string;
  seeTheCallLink: string;
  notScored: string;
  scorecardUnavailable: string;
  passed: string;
  notPassed: string;
  needsReviewTag: string;
  needsReview: string;
  readBeforeTrusting: string;
  overall: string;
  passMark(mark: number): string;
  weight(weight: number): string;
  evidence: string;
  nothingInTheCall: string;
  nextTime: string;
  criterion: string;
  score: string;
  scorecard: string;
  delivery: string;
  transcript: string;
  incompleteTranscript: string;
  interrupted: string;
  /** Staged calls: the line between the turns where the rep was put through. */
  putThrough(persona: string): string;
  callLength: string;
  /** The rep, addressed in their own email. */
  you: string;
  talkRatio(who: string): string;
  wordsPerMinute: string;
  fillerWords: string;
  perMinute(count: number): string;
  longestMonologue: string;
  questionsAsked: string;
  firstAfter(duration: string): string;
  interruptions: string;
  /** rep: null when the email is to the rep ("you"). */
  interruptionCounts(rep: string | null, persona: string, repInterrupted: number, personaInterrupted: number): string;
}

const TEXT: Record<BaseLanguage, CallEmailText> = {
  en: {
    hi: (name) => `Hi ${name},`,
    subjectRep: (title, outcome) => `Your practice call: ${title} (${outcome})`,
    subjectManager: (rep, title, outcome) => `${rep}'s practice call: ${title} (${outcome})`,
    introRep: (persona) => `Here is how your practice call with ${persona} went.`,
    introManager: (rep, persona) => `${rep} finished a practice call with ${persona}.`,
    scenario: 'Scenario',
    seeTheCall: 'See the call',
    seeTheCallLink: 'See the call in Practice Line',
    notScored: 'not scored',
    scorecardUnavailable: 'scorecard unavailable',
    passed: 'passed',
    notPassed: 'not passed',
    needsReviewTag: 'NEEDS REVIEW',
    needsReview: 'Needs review',
    readBeforeTrusting: 'read the call before trusting this score.',
    overall: 'Overall',
    passMark: (mark) => `pass mark ${mark}`,
    weight: (weight) => `weight ${weight}`,
    evidence: 'Evidence',
    nothingInTheCall: 'nothing in the call',
    nextTime: 'Next time',
    criterion: 'Criterion',
    score: 'Score',
    scorecard: 'Scorecard',
    delivery: 'Delivery',
    transcript: 'Transcript',
    incompleteTranscript: 'Transcript incomplete: some turns of this call could not be saved, so it (and the scorecard) may miss part of the conversation.',
    interrupted: 'interrupted',
    putThrough: (persona) => putThroughLine(persona),
    callLength: 'Call length',
    you: 'you',
    talkRatio: (who) => `Talk ratio (${who})`,
    wordsPerMinute: 'Words per minute',
    fillerWords: 'Filler words',
    perMinute: (count) => `${count} per minute`,
    longestMonologue: 'Longest monologue',
    questionsAsked: 'Questions asked',
    firstAfter: (duration) => `first after ${duration}`,
    interruptions: 'Interruptions',
    interruptionCounts: (rep, persona, byRep, byPersona) =>
      `${rep ?? 'you'} interrupted ${persona} ${byRep}×, ${persona} interrupted ${rep ?? 'you'} ${byPersona}×`,
  },
  es: {
    hi: (name) => `Hola, ${name}:`,
    subjectRep: (title, outcome) => `Tu llamada de práctica: ${title} (${outcome})`,
    subjectManager: (rep, title, outcome) => `Llamada de práctica de ${rep}: ${title} (${outcome})`,
    introRep: (persona) => `Así fue tu llamada de práctica con ${persona}.`,
    introManager: (rep, persona) => `${rep} terminó una llamada de práctica con ${persona}.`,
    scenario: 'Escenario',
    seeTheCall: 'Ver la llamada',
    seeTheCallLink: 'Ver la llamada en Practice Line',
    notScored: 'sin evaluar',
    scorecardUnavailable: 'evaluación no disponible',
    passed: 'aprobada',
    notPassed: 'no aprobada',
    needsReviewTag: 'REQUIERE REVISIÓN',
    needsReview: 'Requiere revisión',
    readBeforeTrusting: 'lee la llamada antes de fiarte de esta puntuación.',
    overall: 'Total',
    passMark: (mark) => `nota para aprobar ${mark}`,
    weight: (weight) => `peso ${weight}`,
    evidence: 'Prueba',
    nothingInTheCall: 'nada en la llamada',
    nextTime: 'La próxima vez',
    criterion: 'Criterio',
    score: 'Puntuación',
    scorecard: 'Evaluación',
    delivery: 'Forma de hablar',
    transcript: 'Transcripción',
    incompleteTranscript: 'Transcripción incompleta: algunos turnos de esta llamada no se pudieron guardar, así que la transcripción (y la evaluación) pueden omitir parte de la conversación.',
    interrupted: 'interrumpido',
    putThrough: (persona) => `— le pasan con ${persona} —`,
    callLength: 'Duración de la llamada',
    you: 'tú',
    talkRatio: (who) => `Proporción de habla (${who})`,
    wordsPerMinute: 'Palabras por minuto',
    fillerWords: 'Muletillas',
    perMinute: (count) => `${count} por minuto`,
    longestMonologue: 'Monólogo más largo',
    questionsAsked: 'Preguntas hechas',
    firstAfter: (duration) => `la primera tras ${duration}`,
    interruptions: 'Interrupciones',
    interruptionCounts: (rep, persona, byRep, byPersona) =>
      rep === null
        ? `interrumpiste a ${persona} ${byRep}×, ${persona} te interrumpió ${byPersona}×`
        : `${rep} interrumpió a ${persona} ${byRep}×, ${persona} interrumpió a ${rep} ${byPersona}×`,
  },
  de: {
    hi: (name) => `Hallo ${name},`,
    subjectRep: (title, outcome) => `Dein Übungsanruf: ${title} (${outcome})`,
    subjectManager: (rep, title, outcome) => `Übungsanruf von ${rep}: ${title} (${outcome})`,
    introRep: (persona) => `So ist dein Übungsanruf mit ${persona} gelaufen.`,
    introManager: (rep, persona) => `${rep} hat einen Übungsanruf mit ${persona} beendet.`,
    scenario: 'Szenario',
    seeTheCall: 'Zum Anruf',
    seeTheCallLink: 'Den Anruf in Practice Line ansehen',
    notScored: 'nicht bewertet',
    scorecardUnavailable: 'Bewertung nicht verfügbar',
    passed: 'bestanden',
    notPassed: 'nicht bestanden',
    needsReviewTag: 'PRÜFEN',
    needsReview: 'Bitte prüfen',
    readBeforeTrusting: 'lies den Anruf, bevor du dieser Bewertung vertraust.',
    overall: 'Gesamt',
    passMark: (mark) => `Bestehensgrenze ${mark}`,
    weight: (weight) => `Gewicht ${weight}`,
    evidence: 'Beleg',
    nothingInTheCall: 'nichts im Anruf',
    nextTime: 'Nächstes Mal',
    criterion: 'Kriterium',
    score: 'Punkte',
    scorecard: 'Bewertung',
    delivery: 'Sprechweise',
    transcript: 'Transkript',
    incompleteTranscript: 'Transkript unvollständig: Einige Beiträge dieses Anrufs konnten nicht gespeichert werden, daher können Transkript und Bewertung Teile des Gesprächs auslassen.',
    interrupted: 'unterbrochen',
    putThrough: (persona) => `— durchgestellt zu ${persona} —`,
    callLength: 'Anrufdauer',
    you: 'du',
    talkRatio: (who) => `Redeanteil (${who})`,
    wordsPerMinute: 'Wörter pro Minute',
    fillerWords: 'Füllwörter',
    perMinute: (count) => `${count} pro Minute`,
    longestMonologue: 'Längster Monolog',
    questionsAsked: 'Gestellte Fragen',
    firstAfter: (duration) => `die erste nach ${duration}`,
    interruptions: 'Unterbrechungen',
    interruptionCounts: (rep, persona, byRep, byPersona) =>
      rep === null
        ? `du hast ${persona} ${byRep}× unterbrochen, ${persona} dich ${byPersona}×`
        : `${rep} hat ${persona} ${byRep}× unterbrochen, ${persona} ${rep} ${byPersona}×`,
  },
  fr: {
    hi: (name) => `Bonjour ${name},`,
    subjectRep: (title, outcome) => `Votre appel d’entraînement : ${title} (${outcome})`,
    subjectManager: (rep, title, outcome) => `Appel d’entraînement de ${rep} : ${title} (${outcome})`,
    introRep: (persona) => `Voici comment s’est passé votre appel d’entraînement avec ${persona}.`,
    introManager: (rep, persona) => `${rep} a terminé un appel d’entraînement avec ${persona}.`,
    scenario: 'Scénario',
    seeTheCall: 'Voir l’appel',
    seeTheCallLink: 'Voir l’appel dans Practice Line',
    notScored: 'non évalué',
    scorecardUnavailable: 'évaluation indisponible',
    passed: 'réussi',
    notPassed: 'non réussi',
    needsReviewTag: 'À VÉRIFIER',
    needsReview: 'À vérifier',
    readBeforeTrusting: 'lisez l’appel avant de vous fier à cette note.',
    overall: 'Total',
    passMark: (mark) => `seuil de réussite ${mark}`,
    weight: (weight) => `poids ${weight}`,
    evidence: 'Preuve',
    nothingInTheCall: 'rien dans l’appel',
    nextTime: 'La prochaine fois',
    criterion: 'Critère',
    score: 'Note',
    scorecard: 'Évaluation',
    delivery: 'Élocution',
    transcript: 'Transcription',
    incompleteTranscript: 'Transcription incomplète : certains tours de parole de cet appel n’ont pas pu être enregistrés, la transcription (et l’évaluation) peut donc omettre une partie de la conversation.',
    interrupted: 'interrompu',
    putThrough: (persona) => `— transféré à ${persona} —`,
    callLength: 'Durée de l’appel',
    you: 'vous',
    talkRatio: (who) => `Temps de parole (${who})`,
    wordsPerMinute: 'Mots par minute',
    fillerWords: 'Mots de remplissage',
    perMinute: (count) => `${count} par minute`,
    longestMonologue: 'Plus long monologue',
    questionsAsked: 'Questions posées',
    firstAfter: (duration) => `la première après ${duration}`,
    interruptions: 'Interruptions',
    interruptionCounts: (rep, persona, byRep, byPersona) =>
      rep === null
        ? `vous avez interrompu ${persona} ${byRep}×, ${persona} vous a interrompu ${byPersona}×`
        : `${rep} a interrompu ${persona} ${byRep}×, ${persona} a interrompu ${rep} ${byPersona}×`,
  },
};

export const callEmailText = (language = 'en'): CallEmailText => TEXT[baseLanguage(language)];
