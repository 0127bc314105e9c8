#!/usr/bin/env bash
# Regenerates the background-noise loops from sox's noise generators: no recordings, no third-party
# material (licence: the project's, MIT). Deterministic (fixed seeds), 20 s mono 48 kHz Ogg Vorbis,
# each levelled to about -36 dBFS RMS, some 15-20 dB under the persona's voice, so it is heard
# under speech without masking it. The agent plays them as they are (agent/ambience.ts).
set -euo pipefail
cd "$(dirname "$0")"
len=20
# Office: a ventilation bed (low-passed pink noise) with slow swells.
sox -R -n -r 48000 -c 1 office.ogg synth "$len" pinknoise lowpass 1800 lowpass 1800 \
  tremolo 0.15 25 gain -n -22.5
# Street: rumbling traffic (brown noise, low-passed) that swells and fades as cars pass.
sox -R -n -r 48000 -c 1 street.ogg synth "$len" brownnoise lowpass 900 tremolo 0.11 60 gain -n -29
# Café: a band-limited murmur with faster, irregular swells, like several conversations far off.
sox -R -n -r 48000 -c 1 cafe.ogg synth "$len" pinknoise sinc 250-3200 tremolo 3.1 35 tremolo 0.37 40 gain -n -20
