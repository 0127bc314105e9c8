/**
 * The phone's RTP socket and media clock on a thread of their own. A real phone's clock never
 * waits for anything; in one Node event loop it waits for everything else the process does. In the
 * tests that is the emulators' speech matching and synthesis: a 300 ms stall while a caller was
 * mid-sentence left a gap in the RTP that the far end's VAD heard as a pause, and tore the
 * sentence in two. Received packets are stamped here, on arrival, for the same reason.
 */
import { createSocket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { epochNow, RtpSender, type FromMediaThread, type ToMediaThread } from './rtp_sender.js';

const port = parentPort;
if (port === null) throw new Error('media_thread.ts runs as a worker thread (see media.ts)');
const { localAddress } = workerData as { localAddress: string };
const post = (message: FromMediaThread): void => port.postMessage(message);

const socket = createSocket('udp4');
socket.on('message', (data) => post({ type: 'rtp', data: new Uint8Array(data), arrivalEpochMs: epochNow() }));
socket.bind({ address: localAddress, port: 0 }, () => post({ type: 'bound', port: socket.address().port }));

const sender = new RtpSender((packet, answer) => socket.send(packet, answer.port, answer.address), post);
port.on('message', (message: ToMediaThread) => {
  if (message.type === 'start') sender.start(message.answer);
  else if (message.type === 'play') sender.play(message.id, message.samples, message.label);
  else if (message.type === 'dtmf') sender.dtmf(message.id, message.digit, message.durationMs, message.gapMs);
  else sender.stop();
});
