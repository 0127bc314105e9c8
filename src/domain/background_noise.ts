// The ambience a scenario plays under the persona's voice (agent/ambience.ts has the clips).
export const BACKGROUND_NOISES = ['none', 'office', 'street', 'cafe'] as const;
export type BackgroundNoise = (typeof BACKGROUND_NOISES)[number];

export const BACKGROUND_NOISE_LABELS: Record<BackgroundNoise, string> = {
  none: 'None (a quiet room)',
  office: 'Office',
  street: 'Street',
  cafe: 'Café',
};
