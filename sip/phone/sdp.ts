/** The SDP (RFC 4566) the test phone offers, and the parts of an answer it needs. */
export type G711Codec = 'PCMU' | 'PCMA';

export const payloadTypes = { PCMU: 0, PCMA: 8 } as const;
export const offeredTelephoneEventPt = 101;

export interface OfferInput {
  address: string;
  rtpPort: number;
  /** Order of preference; default PCMU then PCMA. */
  codecs?: readonly G711Codec[];
  sessionId?: number;
}

export function buildOffer(input: OfferInput): string {
  const codecs = input.codecs ?? ['PCMU', 'PCMA'];
  const session = input.sessionId ?? Math.floor(Math.random() * 1e9);
  const pts = [...codecs.map((c) => payloadTypes[c]), offeredTelephoneEventPt];
  return [
    'v=0',
    `o=- ${session} ${session} IN IP4 ${input.address}`,
    's=practice-line-test-phone',
    `c=IN IP4 ${input.address}`,
    't=0 0',
    `m=audio ${input.rtpPort} RTP/AVP ${pts.join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${payloadTypes[c]} ${c}/8000`),
    `a=rtpmap:${offeredTelephoneEventPt} telephone-event/8000`,
    `a=fmtp:${offeredTelephoneEventPt} 0-16`,
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface Answer {
  address: string;
  port: number;
  codec: G711Codec;
  payloadType: number;
  /** Payload type for RFC 4733 events, if the answer accepted them. */
  telephoneEventPt: number | undefined;
}

export function parseAnswer(sdp: string): Answer {
  const lines = sdp.split(/\r?\n/);
  let address: string | undefined;
  let port: number | undefined;
  let formats: number[] = [];
  const rtpmap = new Map<number, string>();
  let inAudio = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      inAudio = line.startsWith('m=audio ');
      if (inAudio) {
        const parts = line.slice(2).split(' ');
        port = Number(parts[1]);
        formats = parts.slice(3).map(Number);
      }
    } else if (line.startsWith('c=IN IP4 ') && (address === undefined || inAudio)) {
      address = line.slice(9).trim();
    } else if (inAudio && line.startsWith('a=rtpmap:')) {
      const match = /^a=rtpmap:(\d+) ([^/]+)\//.exec(line);
      if (match !== null) rtpmap.set(Number(match[1]), (match[2] ?? '').toUpperCase());
    }
  }
  if (address === undefined || port === undefined) throw new Error(`SDP answer without audio address:\n${sdp}`);
  const payloadType = formats.find((pt) => pt === 0 || pt === 8);
  if (payloadType === undefined) throw new Error(`SDP answer without PCMU/PCMA:\n${sdp}`);
  const telephoneEventPt = formats.find((pt) => rtpmap.get(pt) === 'TELEPHONE-EVENT');
  return { address, port, codec: payloadType === 0 ? 'PCMU' : 'PCMA', payloadType, telephoneEventPt };
}
