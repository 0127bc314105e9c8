// The languages a persona may speak: those Groq Whisper transcribes, ElevenLabs' multilingual models
// (eleven_flash_v2_5, the default) voice, and for which the agent has its fixed lines below. A tag
// outside this list is refused when a persona is saved, so a call never starts in a language the
// pipeline would quietly get wrong.

export interface PersonaLines {
  /** Said when the time limit has passed, then the call ends. */
  timeUp(repFirstName: string): string;
  /** A turn failed after retries: a natural line instead of silence. */
  fallback: string;
  /** The providers stay down: end politely. */
  providersDown: string;
  /** end_call without a goodbye in the reply. */
  goodbye: string;
  /** Spoken before the greeting whenever the call is recorded (decision 016). */
  recordingDisclosure: string;
}

interface Language {
  /** The name the persona's prompt uses, e.g. "Spanish". */
  name: string;
  lines: PersonaLines;
}

const LANGUAGES = {
  en: {
    name: 'English',
    lines: {
      timeUp: (rep) => `I'm sorry, ${rep}, I really have to jump to my next meeting. Thanks for calling, goodbye.`,
      fallback: 'Sorry, you broke up there. Could you say that again?',
      providersDown: "Sorry, the line is really bad on my end. Let's pick this up another time. Goodbye.",
      goodbye: 'Alright, thanks for calling. Goodbye.',
      recordingDisclosure: 'This practice call is recorded for coaching.',
    },
  },
  es: {
    name: 'Spanish',
    lines: {
      timeUp: (rep) => `Lo siento, ${rep}, tengo que irme a mi próxima reunión. Gracias por llamar, adiós.`,
      fallback: 'Perdona, se ha cortado. ¿Puedes repetirlo?',
      providersDown: 'Lo siento, la línea está fatal por mi lado. Lo retomamos otro día. Adiós.',
      goodbye: 'Bueno, gracias por llamar. Adiós.',
      recordingDisclosure: 'Esta llamada de práctica se graba con fines de formación.',
    },
  },
  de: {
    name: 'German',
    lines: {
      timeUp: (rep) => `Tut mir leid, ${rep}, ich muss zu meinem nächsten Termin. Danke für den Anruf, auf Wiederhören.`,
      fallback: 'Entschuldigung, Sie waren kurz weg. Können Sie das wiederholen?',
      providersDown: 'Entschuldigung, die Verbindung ist bei mir sehr schlecht. Sprechen wir ein andermal. Auf Wiederhören.',
      goodbye: 'Gut, danke für den Anruf. Auf Wiederhören.',
      recordingDisclosure: 'Dieser Übungsanruf wird zu Coaching-Zwecken aufgezeichnet.',
    },
  },
  fr: {
    name: 'French',
    lines: {
      timeUp: (rep) => `Désolé, ${rep}, je dois filer à ma prochaine réunion. Merci de votre appel, au revoir.`,
      fallback: 'Pardon, ça a coupé. Vous pouvez répéter ?',
      providersDown: 'Désolé, la ligne est très mauvaise de mon côté. Reprenons une autre fois. Au revoir.',
      goodbye: 'Bon, merci de votre appel. Au revoir.',
      recordingDisclosure: 'Cet appel d’entraînement est enregistré à des fins de coaching.',
    },
  },
} satisfies Record<string, Language>;

export type BaseLanguage = keyof typeof LANGUAGES;

/** Region subtags the models handle as their base language (accent comes from the voice). */
export const SUPPORTED_LANGUAGE_TAGS = ['en', 'en-US', 'en-GB', 'en-AU', 'es', 'es-ES', 'es-MX', 'de', 'de-DE', 'de-AT', 'fr', 'fr-FR', 'fr-CA'] as const;

const lowerTags = new Map(SUPPORTED_LANGUAGE_TAGS.map((tag) => [tag.toLowerCase(), tag]));

/** The canonical spelling of a supported tag (es-mx -> es-MX), or undefined. */
export const supportedLanguageTag = (tag: string): string | undefined => lowerTags.get(tag.trim().toLowerCase());

/** The base language of a tag, English for anything unknown (metadata from before validation). */
export function baseLanguage(tag: string): BaseLanguage {
  const base = tag.split('-')[0]?.toLowerCase() ?? 'en';
  return base in LANGUAGES ? (base as BaseLanguage) : 'en';
}

export const languageName = (tag: string): string => LANGUAGES[baseLanguage(tag)].name;
export const personaLines = (tag: string): PersonaLines => LANGUAGES[baseLanguage(tag)].lines;

/**
 * The language of a call's scorecard feedback and its emails: the scenario's setting when it has
 * one (e.g. English for managers who read English), otherwise the persona's (decision 017).
 */
export const feedbackLanguage = (scenarioSetting: string | null | undefined, personaLanguage: string): string => scenarioSetting ?? personaLanguage;
