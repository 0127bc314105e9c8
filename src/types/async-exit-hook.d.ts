// The part of async-exit-hook's API we use (the package ships no types).
declare module 'async-exit-hook' {
  interface AsyncExitHook {
    unhookEvent(event: string): void;
    hookedEvents(): string[];
  }
  const exitHook: AsyncExitHook;
  export default exitHook;
}
