// The scenario's time limit: a wrap-up nudge shortly before it, then the end. Plain timers, cancelled
// when the call ends for any other reason.

export interface CallTimers {
  cancel(): void;
}

export interface CallTimerPlan {
  timeLimitSeconds: number;
  /** How long before the limit the persona is asked to wrap up; no nudge if the call is shorter. */
  wrapUpWarningSeconds: number;
  onWrapUp(): void;
  onTimeUp(): void;
}

export function startCallTimers(plan: CallTimerPlan): CallTimers {
  const limitMs = plan.timeLimitSeconds * 1000;
  const warnMs = limitMs - plan.wrapUpWarningSeconds * 1000;
  const timers = [setTimeout(plan.onTimeUp, limitMs)];
  if (warnMs > 0) timers.push(setTimeout(plan.onWrapUp, warnMs));
  return {
    cancel() {
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
