import { describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, describeAccess, formatActions, OpenTrunkError, practiceCallAttribute, practiceCallHeader } from './ensure.js';

describe('the Practice Line SIP plan', () => {
  it('has a callee rule with an empty prefix for Twilio and an individual rule with the agent for the direct trunk', () => {
    const plan = buildPracticeLinePlan({
      agentName: 'persona',
      twilio: { authUsername: 'u', authPassword: 'p' },
      direct: { numbers: ['+15550001000'], allowedAddresses: ['54.172.60.0/30'] },
    });
    expect(plan.trunks.map((t) => t.name)).toEqual(['practice-line-twilio', 'practice-line-direct']);
    expect(plan.trunks[0]).toMatchObject({ numbers: [], headersToAttributes: { [practiceCallHeader]: practiceCallAttribute } });
    expect(plan.rules[0]).toMatchObject({ trunks: ['practice-line-twilio'], rule: { type: 'callee', roomPrefix: '', randomize: false }, agents: [] });
    expect(plan.rules[1]).toMatchObject({
      trunks: ['practice-line-direct'],
      rule: { type: 'individual' },
      agents: [{ agentName: 'persona', metadata: JSON.stringify({ v: 1, stage: 'awaiting_pin' }) }],
    });
  });

  it('refuses an open Twilio trunk and leaves out a direct trunk without numbers', () => {
    expect(() => buildPracticeLinePlan({ agentName: 'a' })).toThrow(/credentials or allowed addresses/);
    const plan = buildPracticeLinePlan({ agentName: 'a', twilio: { allowedAddresses: ['54.172.60.0/30'] }, direct: { numbers: [] } });
    expect(plan.rules.map((r) => r.name)).toEqual(['practice-line-twilio']);
    expect(buildPracticeLinePlan({ agentName: 'a', twilio: false }).trunks).toEqual([]);
  });

  it('refuses an open direct trunk unless told, and describes who may call a trunk', () => {
    expect(() => buildPracticeLinePlan({ agentName: 'a', twilio: false, direct: { numbers: ['+15550001000'] } })).toThrow(OpenTrunkError);
    expect(() => buildPracticeLinePlan({ agentName: 'a', twilio: false, direct: { numbers: ['+15550001000'], authUsername: 'u' } })).toThrow(/--allow-open-trunk/);
    const withAuth = buildPracticeLinePlan({ agentName: 'a', twilio: false, direct: { numbers: ['+1555'], authUsername: 'u', authPassword: 'p' } });
    expect(describeAccess(withAuth.trunks[0]!)).toBe('any address; digest auth');
    const open = buildPracticeLinePlan({ agentName: 'a', twilio: false, direct: { numbers: ['+1555'], allowOpen: true } });
    expect(describeAccess(open.trunks[0]!)).toBe('any address, no auth: OPEN to any SIP client');
    expect(describeAccess({ allowedAddresses: ['10.0.0.0/8'], authUsername: '', authPassword: '' })).toBe('addresses 10.0.0.0/8; no auth');
  });

  it('prints one line per action without secret values', () => {
    const text = formatActions({
      dryRun: true,
      trunkIds: {},
      ruleIds: {},
      actions: [
        { object: 'trunk', name: 't', action: 'update', id: 'ST_1', changes: ['authPassword'] },
        { object: 'rule', name: 'r', action: 'create', id: undefined, changes: [] },
      ],
    });
    expect(text).toBe('[dry-run] trunk t: update (authPassword) ST_1\n[dry-run] rule r: create');
  });
});
