// Provisioning against a real livekit-server (its SIP API needs Redis, which the stack runs).
import { SipClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip, type PracticeLinePlanInput } from '../../sip/ensure.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';

let stack: Stack;
let sip: SipClient;

beforeAll(async () => {
  stack = await startStack();
  sip = new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('sip provisioning', () => {
  it('yields the same trunk and rule IDs when run twice, and the second run changes nothing', async () => {
    const input: PracticeLinePlanInput = {
      agentName: 'practice-line-persona',
      namePrefix: 'twice',
      twilio: { authUsername: 'twilio', authPassword: 'secret-1' },
      direct: { numbers: ['+15550002000'], allowOpen: true },
    };
    const first = await ensureSip(sip, buildPracticeLinePlan(input));
    expect(first.actions.map((a) => a.action)).toEqual(['create', 'create', 'create', 'create']);
    const second = await ensureSip(sip, buildPracticeLinePlan(input));
    expect(second.trunkIds).toEqual(first.trunkIds);
    expect(second.ruleIds).toEqual(first.ruleIds);
    expect(second.actions.map((a) => a.action)).toEqual(['keep', 'keep', 'keep', 'keep']);
    expect((await sip.listSipInboundTrunk()).filter((t) => t.name.startsWith('twice-'))).toHaveLength(2);
    expect((await sip.listSipDispatchRule()).filter((r) => r.name.startsWith('twice-'))).toHaveLength(2);

    const rules = await sip.listSipDispatchRule();
    const twilioRule = rules.find((r) => r.name === 'twice-twilio');
    expect(twilioRule?.rule?.rule.case).toBe('dispatchRuleCallee');
    expect(twilioRule?.rule?.rule.value).toMatchObject({ roomPrefix: '', randomize: false });
    const directRule = rules.find((r) => r.name === 'twice-direct');
    expect(directRule?.rule?.rule.case).toBe('dispatchRuleIndividual');
    expect(directRule?.roomConfig?.agents.map((a) => a.agentName)).toEqual(['practice-line-persona']);
  });

  it('updates a changed trunk in place and plans without writing on a dry run', async () => {
    const input: PracticeLinePlanInput = {
      agentName: 'practice-line-persona',
      namePrefix: 'change',
      // Only one trunk may answer any number, and the first test owns it: use the direct path.
      twilio: false,
      direct: { numbers: ['+15550003000'], authUsername: 'carrier', authPassword: 'secret-1' },
    };
    const created = await ensureSip(sip, buildPracticeLinePlan(input));
    const changed: PracticeLinePlanInput = {
      ...input,
      direct: { numbers: ['+15550003000'], authUsername: 'carrier', authPassword: 'secret-2' },
    };

    const planned = await ensureSip(sip, buildPracticeLinePlan(changed), { dryRun: true });
    expect(planned.actions[0]).toMatchObject({ object: 'trunk', action: 'update', changes: ['authPassword'] });
    const stillOld = (await sip.listSipInboundTrunk()).find((t) => t.name === 'change-direct');
    expect(stillOld?.authPassword).toBe('secret-1');

    const updated = await ensureSip(sip, buildPracticeLinePlan(changed));
    expect(updated.trunkIds).toEqual(created.trunkIds);
    const now = (await sip.listSipInboundTrunk()).find((t) => t.name === 'change-direct');
    expect(now?.authPassword).toBe('secret-2');
    expect((await ensureSip(sip, buildPracticeLinePlan(changed))).actions.every((a) => a.action === 'keep')).toBe(true);
  });

  it('creates nothing on a dry run against an empty server', async () => {
    const planned = await ensureSip(
      sip,
      buildPracticeLinePlan({ agentName: 'a', namePrefix: 'dry', twilio: { allowedAddresses: ['127.0.0.1/32'] } }),
      { dryRun: true },
    );
    expect(planned.actions.map((a) => `${a.object}:${a.action}`)).toEqual(['trunk:create', 'rule:create']);
    expect((await sip.listSipInboundTrunk()).some((t) => t.name.startsWith('dry-'))).toBe(false);
  });
});
