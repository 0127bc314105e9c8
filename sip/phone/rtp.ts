/** RTP (RFC 3550) packets and RFC 4733 telephone-event payloads, by hand: 12-byte headers. */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

export function encodeRtp(packet: RtpPacket): Buffer {
  const out = Buffer.alloc(12 + packet.payload.length);
  out[0] = 0x80; // version 2, no padding, no extension, no CSRC
  out[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  out.writeUInt16BE(packet.sequence & 0xffff, 2);
  out.writeUInt32BE(packet.timestamp >>> 0, 4);
  out.writeUInt32BE(packet.ssrc >>> 0, 8);
  out.set(packet.payload, 12);
  return out;
}

export function decodeRtp(data: Buffer): RtpPacket | undefined {
  if (data.length < 12 || data[0] === undefined || data[0] >> 6 !== 2) return undefined;
  const first = data[0];
  const csrcCount = first & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if ((first & 0x10) !== 0) {
    if (data.length < offset + 4) return undefined;
    offset += 4 + 4 * data.readUInt16BE(offset + 2);
  }
  let end = data.length;
  if ((first & 0x20) !== 0) end -= data[data.length - 1] ?? 0;
  if (end < offset) return undefined;
  const second = data[1] ?? 0;
  return {
    payloadType: second & 0x7f,
    marker: (second & 0x80) !== 0,
    sequence: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
    payload: new Uint8Array(data.subarray(offset, end)),
  };
}

const dtmfCodes: Record<string, number> = {
  '0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9,
  '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15,
};

export function dtmfEventCode(digit: string): number {
  const code = dtmfCodes[digit.toUpperCase()];
  if (code === undefined) throw new Error(`not a DTMF digit: ${digit}`);
  return code;
}

/** RFC 4733 §2.3 payload: event, E bit + volume, duration in timestamp units. */
export function encodeDtmfPayload(event: number, end: boolean, volume: number, duration: number): Uint8Array {
  const out = new Uint8Array(4);
  out[0] = event;
  out[1] = (end ? 0x80 : 0) | (volume & 0x3f);
  out[2] = (duration >> 8) & 0xff;
  out[3] = duration & 0xff;
  return out;
}

export function decodeDtmfPayload(payload: Uint8Array): { event: number; end: boolean; volume: number; duration: number } {
  return {
    event: payload[0] ?? 0,
    end: ((payload[1] ?? 0) & 0x80) !== 0,
    volume: (payload[1] ?? 0) & 0x3f,
    duration: ((payload[2] ?? 0) << 8) | (payload[3] ?? 0),
  };
}
