// What a caller hears while being routed, in one place: the Twilio TwiML and the agent's own PIN
// prompt on the direct-trunk path speak the same lines, in the line's or the scenario's language
// (docs/decisions/017-languages-on-the-phone.md). The phone is the UI, so every refusal says what
// to do next. One table per language; a language without a table would fail to typecheck.
import { baseLanguage, type BaseLanguage } from './languages.js';
import { normalisePhoneNumber } from './lockout.js';
import type { ResolveFailure } from './resolver.js';

export const MAX_PIN_TRIES = 3;

export interface CallPrompts {
  greeting: string;
  enterAgain: string;
  tooManyTries: string;
  unavailable: string;
  /** The service is restarting (a deploy): new calls are turned away until it is back. */
  restarting: string;
  noPartnerFree: string;
  notConfigured: string;
  noDigits: string;
  wrongPin: string;
  /** An extension, but caller ID cannot name the rep here. */
  extensionNeedsPin: string;
  /** A direct line, but caller ID cannot name the rep here. */
  personalPin: string;
  expired: string;
  exhausted: string;
  inactive: string;
  lockedOut(minutes: number): string;
}

const PROMPTS: Record<BaseLanguage, CallPrompts> = {
  en: {
    greeting: 'Welcome to Practice Line. Please enter your practice PIN, or a scenario extension followed by the pound key.',
    enterAgain: 'Please enter your PIN, or an extension followed by pound.',
    tooManyTries: 'Sorry, we could not find your practice call. Please check your PIN with your manager and call again. Goodbye.',
    unavailable: 'Sorry, the practice line is having trouble connecting your call. Please try again in a few minutes. Goodbye.',
    restarting: 'Sorry, the practice line is restarting. Please call again in a minute. Goodbye.',
    noPartnerFree: 'Thanks for calling Practice Line. No practice partner is free right now, please try again in a minute. Goodbye.',
    notConfigured: 'Thanks for calling Practice Line. The practice line is not configured yet, so we cannot take your call. Goodbye.',
    noDigits: 'I did not catch any digits.',
    wrongPin: 'Sorry, that PIN or extension was not recognised.',
    extensionNeedsPin: 'That extension needs your personal PIN on this call. Please enter your PIN instead.',
    personalPin: 'Please enter your personal practice PIN, then press the pound key.',
    expired: 'That practice assignment is past its due date. Please ask your manager for a new one.',
    exhausted: 'You have used all the attempts for that practice assignment. Please ask your manager for more.',
    inactive: 'That practice scenario is no longer available. Please ask your manager.',
    lockedOut: (minutes) =>
      `For security, PIN entry is paused after too many wrong PINs. Please try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}. Goodbye.`,
  },
  es: {
    greeting: 'Bienvenido a Practice Line. Introduzca su PIN de práctica, o una extensión de escenario seguida de la tecla almohadilla.',
    enterAgain: 'Introduzca su PIN, o una extensión seguida de almohadilla.',
    tooManyTries: 'Lo sentimos, no hemos encontrado su llamada de práctica. Compruebe su PIN con su responsable y vuelva a llamar. Adiós.',
    unavailable: 'Lo sentimos, la línea de práctica tiene problemas para conectar su llamada. Inténtelo de nuevo en unos minutos. Adiós.',
    restarting: 'Lo sentimos, la línea de práctica se está reiniciando. Vuelva a llamar en un minuto. Adiós.',
    noPartnerFree: 'Gracias por llamar a Practice Line. Ahora mismo no hay ningún compañero de práctica libre, inténtelo de nuevo en un minuto. Adiós.',
    notConfigured: 'Gracias por llamar a Practice Line. La línea de práctica aún no está configurada, así que no podemos atender su llamada. Adiós.',
    noDigits: 'No he recibido ningún dígito.',
    wrongPin: 'Lo sentimos, no reconocemos ese PIN o extensión.',
    extensionNeedsPin: 'Esa extensión necesita su PIN personal en esta llamada. Introduzca su PIN.',
    personalPin: 'Introduzca su PIN personal de práctica y pulse la tecla almohadilla.',
    expired: 'Esa práctica ha pasado su fecha límite. Pida una nueva a su responsable.',
    exhausted: 'Ha usado todos los intentos de esa práctica. Pida más a su responsable.',
    inactive: 'Ese escenario de práctica ya no está disponible. Consulte a su responsable.',
    lockedOut: (minutes) =>
      `Por seguridad, la entrada del PIN está en pausa tras demasiados PIN incorrectos. Inténtelo de nuevo en ${minutes} ${minutes === 1 ? 'minuto' : 'minutos'}. Adiós.`,
  },
  de: {
    greeting: 'Willkommen bei Practice Line. Bitte geben Sie Ihre Übungs-PIN ein, oder eine Szenario-Durchwahl gefolgt von der Rautetaste.',
    enterAgain: 'Bitte geben Sie Ihre PIN ein, oder eine Durchwahl gefolgt von Raute.',
    tooManyTries: 'Leider haben wir Ihren Übungsanruf nicht gefunden. Bitte prüfen Sie Ihre PIN mit Ihrer Führungskraft und rufen Sie erneut an. Auf Wiederhören.',
    unavailable: 'Leider kann die Übungsleitung Ihren Anruf gerade nicht verbinden. Bitte versuchen Sie es in ein paar Minuten erneut. Auf Wiederhören.',
    restarting: 'Die Übungsleitung startet gerade neu. Bitte rufen Sie in einer Minute wieder an. Auf Wiederhören.',
    noPartnerFree: 'Danke für Ihren Anruf bei Practice Line. Gerade ist kein Übungspartner frei, bitte versuchen Sie es in einer Minute erneut. Auf Wiederhören.',
    notConfigured: 'Danke für Ihren Anruf bei Practice Line. Die Übungsleitung ist noch nicht eingerichtet, daher können wir Ihren Anruf nicht annehmen. Auf Wiederhören.',
    noDigits: 'Ich habe keine Ziffern erhalten.',
    wrongPin: 'Diese PIN oder Durchwahl wurde leider nicht erkannt.',
    extensionNeedsPin: 'Für diese Durchwahl brauchen Sie bei diesem Anruf Ihre persönliche PIN. Bitte geben Sie Ihre PIN ein.',
    personalPin: 'Bitte geben Sie Ihre persönliche Übungs-PIN ein und drücken Sie dann die Rautetaste.',
    expired: 'Diese Übung ist über ihr Fälligkeitsdatum hinaus. Bitte fragen Sie Ihre Führungskraft nach einer neuen.',
    exhausted: 'Sie haben alle Versuche für diese Übung verbraucht. Bitte fragen Sie Ihre Führungskraft nach weiteren.',
    inactive: 'Dieses Übungsszenario ist nicht mehr verfügbar. Bitte fragen Sie Ihre Führungskraft.',
    lockedOut: (minutes) =>
      `Aus Sicherheitsgründen ist die PIN-Eingabe nach zu vielen falschen PINs pausiert. Bitte versuchen Sie es in ${minutes} ${minutes === 1 ? 'Minute' : 'Minuten'} erneut. Auf Wiederhören.`,
  },
  fr: {
    greeting: 'Bienvenue sur Practice Line. Veuillez saisir votre code PIN d’entraînement, ou une extension de scénario suivie de la touche dièse.',
    enterAgain: 'Veuillez saisir votre code PIN, ou une extension suivie de dièse.',
    tooManyTries: 'Désolé, nous n’avons pas trouvé votre appel d’entraînement. Vérifiez votre code PIN auprès de votre manager et rappelez. Au revoir.',
    unavailable: 'Désolé, la ligne d’entraînement n’arrive pas à connecter votre appel. Veuillez réessayer dans quelques minutes. Au revoir.',
    restarting: 'Désolé, la ligne d’entraînement redémarre. Veuillez rappeler dans une minute. Au revoir.',
    noPartnerFree: 'Merci d’avoir appelé Practice Line. Aucun partenaire d’entraînement n’est libre pour le moment, veuillez réessayer dans une minute. Au revoir.',
    notConfigured: 'Merci d’avoir appelé Practice Line. La ligne d’entraînement n’est pas encore configurée, nous ne pouvons donc pas prendre votre appel. Au revoir.',
    noDigits: 'Je n’ai reçu aucun chiffre.',
    wrongPin: 'Désolé, ce code PIN ou cette extension n’a pas été reconnu.',
    extensionNeedsPin: 'Cette extension demande votre code PIN personnel pour cet appel. Veuillez saisir votre code PIN.',
    personalPin: 'Veuillez saisir votre code PIN personnel d’entraînement, puis appuyez sur la touche dièse.',
    expired: 'Cet exercice a dépassé sa date limite. Demandez-en un nouveau à votre manager.',
    exhausted: 'Vous avez utilisé toutes les tentatives de cet exercice. Demandez-en d’autres à votre manager.',
    inactive: 'Ce scénario d’entraînement n’est plus disponible. Adressez-vous à votre manager.',
    lockedOut: (minutes) =>
      `Par sécurité, la saisie du code PIN est suspendue après trop de codes erronés. Veuillez réessayer dans ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}. Au revoir.`,
  },
};

/** The routing prompts in a language (a supported tag; anything else is English). */
export const callPrompts = (language = 'en'): CallPrompts => PROMPTS[baseLanguage(language)];

/** The English prompts, for callers that do not know a language. */
export const prompts: CallPrompts = PROMPTS.en;

/** The line for a refused attempt; the caller may try again unless `final`. */
export function refusalLine(failure: ResolveFailure, language = 'en'): string {
  const lines = callPrompts(language);
  switch (failure.kind) {
    case 'no_digits':
      return lines.noDigits;
    case 'wrong_pin':
      return lines.wrongPin;
    // One line whether the number is unknown or merely unverified: a refusal never tells a caller
    // whether a number is registered (decision 012).
    case 'unknown_caller':
    case 'caller_unverified':
      return failure.via === 'extension' ? lines.extensionNeedsPin : lines.personalPin;
    case 'expired':
      return lines.expired;
    case 'exhausted':
      return lines.exhausted;
    case 'inactive':
      return lines.inactive;
  }
}

/**
 * The same calm line for every limit (this caller, this line, the whole service), so it never
 * says which one tripped (decision 012).
 */
export function lockedOutLine(until: Date, now: Date, language = 'en'): string {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return callPrompts(language).lockedOut(minutes);
}

/**
 * Which language a line speaks before the scenario is known: LINE_LANGUAGES maps called numbers
 * (E.164) to a language tag; any other number speaks English.
 */
export type LineLanguages = ReadonlyMap<string, string>;

export function lineLanguage(lines: LineLanguages | undefined, calledNumber: string | null): string {
  const number = normalisePhoneNumber(calledNumber);
  return (number && lines?.get(number)) || 'en';
}
