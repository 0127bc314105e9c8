// The browser practice page: joins the call's LiveKit room with the token the server minted
// (microphone only, this room only), plays the persona, shows who is there, live captions of both
// sides (the agent's lk.transcription text streams), a microphone level, mute, hang-up, time left,
// and livekit-client's reconnection. Bundled with esbuild by practice_bundle.ts; no CDN.
import { ConnectionState, createLocalAudioTrack, DisconnectReason, ParticipantKind, Room, RoomEvent, Track } from 'livekit-client';

/** RMS above which persona audio counts as heard, and the quiet that separates two utterances. */
const VOICED_LEVEL = 0.02;
const SILENCE_MS = 1200;

const root = document.getElementById('practice');
if (root) void run(root);

async function run(root) {
  const callId = root.dataset.callId;
  const persona = root.dataset.persona;
  const timeLimit = Number(root.dataset.timeLimit);
  // WEB_AGENT_JOIN_TIMEOUT_SECONDS: then the page says the persona could not join and gives the attempt back.
  // A page rendered before the setting existed has no attribute: the old fixed 10 s.
  const agentJoinTimeoutMs = Number(root.dataset.agentJoinTimeout) * 1000 || 10_000;
  const status = document.getElementById('practice-status');
  const captions = document.getElementById('captions');
  const meter = document.getElementById('mic-level');
  const muteButton = document.getElementById('mute');
  const hangUpButton = document.getElementById('hang-up');
  const timeLeft = document.getElementById('time-left');
  const callPage = `/calls/${callId}`;
  // Figures the page keeps for tests and the browser bench (window.practice).
  // voicedSegments: bursts of persona audio after at least SILENCE_MS of quiet (greeting, replies).
  const figures = { joinedAt: null, agentJoinedAt: null, firstAudioAt: null, voicedSegments: 0, state: 'connecting', captions: [] };
  window.practice = figures;

  const say = (text, state) => {
    status.textContent = text;
    if (state) {
      figures.state = state;
      root.dataset.state = state;
    }
  };

  const room = new Room({ adaptiveStream: false, dynacast: false, disconnectOnPageLeave: true });
  let agentSeen = false;
  let ended = false;
  let timer;

  const finish = (text) => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    say(text, 'ended');
    hangUpButton.disabled = true;
    muteButton.disabled = true;
    setTimeout(() => location.assign(callPage), 1500);
  };

  const onAgent = (participant) => {
    if (agentSeen || participant.kind !== ParticipantKind.AGENT) return;
    agentSeen = true;
    figures.agentJoinedAt = performance.now();
    say(`${persona} has joined`, 'joined');
    startClock();
  };

  const startClock = () => {
    const endsAt = Date.now() + timeLimit * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      timeLeft.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    };
    tick();
    timer = setInterval(tick, 1000);
  };

  room
    .on(RoomEvent.ParticipantConnected, onAgent)
    .on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
      if (track.kind !== Track.Kind.Audio) return;
      const element = track.attach();
      element.id = `audio-${participant.identity}`;
      document.body.appendChild(element);
      // Not 0: performance.now() counts from navigation, and a greeting heard within SILENCE_MS of
      // the page loading must still start a segment.
      let lastVoiced = Number.NEGATIVE_INFINITY;
      watchLevel(track.mediaStreamTrack, (level) => {
        if (level <= VOICED_LEVEL) return;
        const now = performance.now();
        if (figures.firstAudioAt === null) {
          figures.firstAudioAt = now;
          root.dataset.heard = 'true';
        }
        if (now - lastVoiced > SILENCE_MS) figures.voicedSegments += 1;
        lastVoiced = now;
      });
    })
    .on(RoomEvent.AudioPlaybackStatusChanged, () => {
      // Browsers may hold audio back until the page is touched; one click starts it.
      if (room.canPlaybackAudio) return;
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Start audio';
      button.addEventListener('click', () => void room.startAudio().then(() => button.remove()));
      status.after(button);
    })
    // A dropped signalling connection alone is SignalReconnecting; a broken media path is Reconnecting.
    .on(RoomEvent.SignalReconnecting, () => say('Reconnecting…', 'reconnecting'))
    .on(RoomEvent.Reconnecting, () => say('Reconnecting…', 'reconnecting'))
    .on(RoomEvent.Reconnected, () => say(agentSeen ? `${persona} has joined` : 'Connected', agentSeen ? 'joined' : 'connected'))
    .on(RoomEvent.Disconnected, (reason) => {
      // The persona ending the call deletes the room; a hang-up here is CLIENT_INITIATED.
      const byUs = reason === DisconnectReason.CLIENT_INITIATED;
      finish(byUs ? 'You hung up. Opening your call…' : 'The call has ended. Opening your call…');
    });

  room.registerTextStreamHandler('lk.transcription', async (reader, from) => {
    const segment = reader.info.attributes?.['lk.segment_id'] ?? reader.info.id;
    const mine = from.identity === room.localParticipant.identity;
    let item = captions.querySelector(`li[data-segment="${CSS.escape(segment)}"]`);
    if (!item) {
      item = document.createElement('li');
      item.dataset.segment = segment;
      item.dataset.speaker = mine ? 'rep' : 'persona';
      item.className = mine ? 'rep' : 'persona';
      const who = document.createElement('strong');
      who.textContent = mine ? 'You: ' : `${persona}: `;
      item.append(who, document.createElement('span'));
      captions.appendChild(item);
    }
    const text = item.querySelector('span');
    // The persona's text arrives as deltas of one segment; the rep's as the whole latest guess.
    const before = mine ? '' : text.textContent;
    let received = '';
    for await (const chunk of reader) {
      received += chunk;
      text.textContent = before + received;
    }
    figures.captions.push({ speaker: item.dataset.speaker, text: text.textContent });
    item.scrollIntoView({ block: 'nearest' });
  });

  hangUpButton.addEventListener('click', () => {
    hangUpButton.disabled = true;
    void room.disconnect();
  });
  muteButton.addEventListener('click', async () => {
    const publication = room.localParticipant.getTrackPublication(Track.Source.Microphone);
    if (!publication?.track) return;
    if (publication.isMuted) {
      await publication.track.unmute();
      muteButton.textContent = 'Mute';
      muteButton.setAttribute('aria-pressed', 'false');
    } else {
      await publication.track.mute();
      muteButton.textContent = 'Unmute';
      muteButton.setAttribute('aria-pressed', 'true');
    }
  });

  try {
    say('Connecting…', 'connecting');
    await room.connect(root.dataset.livekitUrl, root.dataset.token, { autoSubscribe: true });
    figures.joinedAt = performance.now();
    const mic = await createLocalAudioTrack({ echoCancellation: true, noiseSuppression: false, autoGainControl: false });
    await room.localParticipant.publishTrack(mic, { source: Track.Source.Microphone });
    watchLevel(mic.mediaStreamTrack, (level) => {
      meter.value = Math.min(1, level * 4);
    });
    hangUpButton.disabled = false;
    muteButton.disabled = false;
    for (const participant of room.remoteParticipants.values()) onAgent(participant);
    if (!agentSeen) say(`Connected. Waiting for ${persona}…`, 'connected');
  } catch (error) {
    say(`Could not connect: ${error instanceof Error ? error.message : String(error)}`, 'failed');
    return;
  }

  setTimeout(async () => {
    if (agentSeen || ended || room.state !== ConnectionState.Connected) return;
    let givenBack = false;
    try {
      const response = await fetch(`/practice/calls/${callId}/no-agent`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: root.dataset.csrf }),
        credentials: 'same-origin',
      });
      if (response.ok) givenBack = (await response.json()).givenBack === true;
    } catch {
      // The call page says what happened.
    }
    if (agentSeen) return;
    ended = true;
    await room.disconnect();
    say(givenBack ? `${persona} could not join. Your attempt was given back; try again in a minute.` : `${persona} could not join.`, 'no-agent');
  }, agentJoinTimeoutMs);
}

/** RMS level of a track, sampled on every animation frame (or 10 times a second when hidden). */
function watchLevel(mediaStreamTrack, onLevel) {
  const context = new AudioContext();
  const source = context.createMediaStreamSource(new MediaStream([mediaStreamTrack]));
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const sample = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const value of samples) sum += value * value;
    onLevel(Math.sqrt(sum / samples.length));
  };
  setInterval(sample, 50);
  void context.resume();
}
