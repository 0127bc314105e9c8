// Listening back: the call page's player, and the audio itself with HTTP range requests, served only
// to those who may see the call (src/app/recordings.ts). Turn times on the transcript link to the
// audio at that moment (a media fragment, so they work without JS); recording.js makes them seek
// the player on the page instead.
import type { RequestHandler, Router } from 'express';
import type { RecordingState } from '../../app/recordings.js';
import { openCallRecording } from '../../app/recordings.js';
import { RECORDING_CONTENT_TYPE } from '../../app/recording_files.js';
import { html, type SafeHtml } from './html.js';
import type { WebDeps } from './web_deps.js';

export const recordingUrl = (callId: string) => `/calls/${encodeURIComponent(callId)}/recording`;

/** Seconds into the recording at which a turn starts, when the call has playable audio. */
export function turnAudioOffset(recording: RecordingState, at: Date): number | undefined {
  if (recording.kind !== 'available') return undefined;
  return Math.max(0, (at.getTime() - recording.startedAt.getTime()) / 1000);
}

export function recordingSection(callId: string, recording: RecordingState): SafeHtml {
  if (recording.kind === 'none') return html`<p class="muted" id="recording-state">This call was not recorded.</p>`;
  if (recording.kind === 'deleted') {
    const after = recording.retentionDays ? ` after ${recording.retentionDays} days` : '';
    return html`<p class="muted" id="recording-state">Audio deleted${after}.</p>`;
  }
  return html`<div id="recording" data-started-at="${recording.startedAt.toISOString()}">
    <audio id="recording-player" controls preload="metadata" src="${recordingUrl(callId)}"></audio>
    <p class="muted" id="recording-state">${recording.inProgress ? 'Recorded (still being stored).' : 'Recorded.'} Click a turn's time to hear it.</p>
  </div><script src="/static/recording.js" defer></script>`;
}

export function addRecordingRoutes(router: Router, deps: WebDeps, repsToo: RequestHandler): void {
  router.get('/calls/:id/recording', repsToo, async (req, res) => {
    const file = await openCallRecording(deps.app, res.locals.actor!, String(req.params.id));
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', RECORDING_CONTENT_TYPE);
    // Personal data: never kept by a shared cache.
    res.setHeader('Cache-Control', 'private, no-store');
    const ranges = req.headers.range ? req.range(file.size) : undefined;
    if (ranges === -1 || (Array.isArray(ranges) && ranges.length !== 1)) {
      res.status(416).setHeader('Content-Range', `bytes */${file.size}`).end();
      return;
    }
    const range = Array.isArray(ranges) ? ranges[0] : undefined;
    if (range) {
      res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.setHeader('Content-Length', String(file.size));
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const body = file.open(range ? { start: range.start, end: range.end } : undefined);
    body.on('error', (error) => {
      deps.logger.warn({ err: error }, 'recording stream failed');
      res.destroy(error);
    });
    body.pipe(res);
  });
}
