import { describe, expect, it } from 'vitest';
import { findVerb, parseTwiml, spokenLines } from '../../test/support/twilio_caller.js';
import { dialRoomTwiml, gatherPinTwiml, hangUpTwiml, retryOrGoodbyeTwiml, sayAndHangUpTwiml, sipUri } from './twiml.js';

const urls = { publicBaseUrl: 'https://practice.example.com' };

describe('TwiML builders', () => {
  it('gathers DTMF (a six-digit PIN submits itself, an extension ends at #) and posts to /twilio/pin with the try number, also on silence', () => {
    const verbs = parseTwiml(gatherPinTwiml(urls, { lead: ['Welcome.'], tryNumber: 2 }));
    expect(verbs).toHaveLength(1);
    expect(verbs[0]).toMatchObject({
      verb: 'Gather',
      attributes: { input: 'dtmf', numDigits: '6', finishOnKey: '#', action: 'https://practice.example.com/twilio/pin?try=2', method: 'POST', actionOnEmptyResult: 'true' },
    });
    expect(spokenLines(verbs)).toEqual(['Welcome.']);
  });

  it('re-prompts with the reason until the third try, then says goodbye and hangs up', () => {
    const retry = parseTwiml(retryOrGoodbyeTwiml(urls, { reason: 'Not recognised.', tryNumber: 2 }));
    expect(findVerb(retry, 'Gather')!.attributes.action).toMatch(/try=3$/);
    expect(spokenLines(retry)[0]).toBe('Not recognised.');

    const last = parseTwiml(retryOrGoodbyeTwiml(urls, { reason: 'Not recognised.', tryNumber: 3 }));
    expect(last.map((verb) => verb.verb)).toEqual(['Say', 'Say', 'Hangup']);
    expect(spokenLines(last).join(' ')).toMatch(/^Not recognised\. .*Goodbye\.$/);
  });

  it('dials the room over SIP/TCP with the call id header, status callbacks and a time cap', () => {
    const xml = dialRoomTwiml(urls, { callId: 'c0ffee00-0000-4000-8000-000000000001', roomName: 'pl-abc', sipHost: 'sip.example.com:5060', timeLimitSeconds: 300 });
    const verbs = parseTwiml(xml);
    const dial = findVerb(verbs, 'Dial')!;
    expect(dial.attributes).toMatchObject({ action: 'https://practice.example.com/twilio/status?call=c0ffee00-0000-4000-8000-000000000001', answerOnBridge: 'true', timeLimit: '420' });
    const sip = findVerb(verbs, 'Sip')!;
    expect(sip.text).toBe('sip:pl-abc@sip.example.com:5060;transport=tcp?X-Practice-Call=c0ffee00-0000-4000-8000-000000000001');
    expect(sip.attributes).toMatchObject({ statusCallbackEvent: 'initiated ringing answered completed' });
    expect(sip.attributes.username).toBeUndefined();
    // The header name obeys Twilio's rule for custom SIP headers.
    expect(sip.text).toMatch(/\?X-(?!Twilio)[A-Za-z-]+=/);

    const withAuth = findVerb(parseTwiml(dialRoomTwiml(urls, { callId: 'x', roomName: 'r', sipHost: 'h', sipUsername: 'u', sipPassword: 'p', timeLimitSeconds: 60 })), 'Sip')!;
    expect(withAuth.attributes).toMatchObject({ username: 'u', password: 'p' });
  });

  it('escapes what it speaks and ends calls with Hangup', () => {
    const xml = sayAndHangUpTwiml(['Fish & <chips>']);
    expect(xml).toContain('Fish &amp; &lt;chips&gt;');
    const verbs = parseTwiml(xml);
    expect(verbs.map((verb) => verb.verb)).toEqual(['Say', 'Hangup']);
    expect(spokenLines(verbs)).toEqual(['Fish & <chips>']);
    expect(parseTwiml(hangUpTwiml()).map((verb) => verb.verb)).toEqual(['Hangup']);
    expect(sipUri({ callId: 'a b', roomName: 'r', sipHost: 'h' })).toBe('sip:r@h;transport=tcp?X-Practice-Call=a%20b');
  });
});
