/**
 * Idempotent provisioning of LiveKit SIP inbound trunks and dispatch rules, matched by name.
 *
 *   const plan = buildPracticeLinePlan({ agentName: 'practice-line-persona', direct: { numbers: ['+15550001000'] } });
 *   const result = await ensureSip(new SipClient(httpUrl, key, secret), plan, { dryRun: false });
 *   result.trunkIds['practice-line-twilio'], result.ruleIds['practice-line-direct'], result.actions
 *
 * Running it twice yields the same IDs: objects whose name matches are compared field by field
 * and only updated (in place, same ID) when they differ. `dryRun` lists the same actions
 * without writing. Objects not in the plan are left alone.
 */
import {
  RoomAgentDispatch,
  RoomConfiguration,
  SIPDispatchRule,
  SIPDispatchRuleCallee,
  SIPDispatchRuleIndividual,
  SIPDispatchRuleInfo,
  SIPInboundTrunkInfo,
  type SipClient,
} from 'livekit-server-sdk';
import { AWAITING_PIN_METADATA } from '../src/domain/room_metadata.js';

/**
 * Twilio's documented signalling addresses for Elastic SIP Trunking origination (one /30 per edge:
 * Virginia, Oregon, Ireland, Frankfurt, Tokyo, Singapore, Sydney, São Paulo), from
 * https://www.twilio.com/docs/sip-trunking/ip-addresses. Check that page when going live: Twilio
 * announces changes there, and `--direct-address` replaces this list.
 */
export const TWILIO_SIGNALLING_RANGES: readonly string[] = Object.freeze([
  '54.172.60.0/30',
  '54.244.51.0/30',
  '54.171.127.192/30',
  '35.156.191.128/30',
  '54.65.63.192/30',
  '54.169.127.128/30',
  '54.252.254.64/30',
  '177.71.206.192/30',
]);

/** Thrown when the plan would leave a trunk open to any SIP client; the message says what to do. */
export class OpenTrunkError extends Error {
  readonly code = 'open_trunk';
}

/** The SIP header Twilio's `<Dial><Sip>` carries (in the URI query) to name our call row. */
export const practiceCallHeader = 'X-Practice-Call';
/** The participant attribute livekit-sip copies that header into. */
export const practiceCallAttribute = 'practice.callId';

export interface InboundTrunkSpec {
  name: string;
  /** Called numbers this trunk answers; empty = any (only one such trunk may exist). */
  numbers: string[];
  allowedAddresses: string[];
  allowedNumbers: string[];
  authUsername: string;
  authPassword: string;
  headersToAttributes: Record<string, string>;
  metadata: string;
}

export type DispatchRuleShape =
  | { type: 'callee'; roomPrefix: string; randomize: boolean }
  | { type: 'individual'; roomPrefix: string };

export interface DispatchRuleSpec {
  name: string;
  /** Names of trunks in the same plan. */
  trunks: string[];
  rule: DispatchRuleShape;
  /** Agents dispatched into every room the rule creates. */
  agents: Array<{ agentName: string; metadata: string }>;
  attributes: Record<string, string>;
  metadata: string;
}

export interface SipPlan {
  trunks: InboundTrunkSpec[];
  rules: DispatchRuleSpec[];
}

export interface PracticeLinePlanInput {
  agentName: string;
  /** Name prefix of every object; default 'practice-line'. */
  namePrefix?: string;
  /** The Twilio Programmable Voice path (callee rule, room = called user). Default: on, no restrictions. */
  twilio?: {
    allowedAddresses?: string[];
    authUsername?: string;
    authPassword?: string;
  } | false;
  /** The direct-trunk path (individual rule + agent dispatch); omitted without numbers. */
  direct?: {
    numbers: string[];
    allowedAddresses?: string[];
    authUsername?: string;
    authPassword?: string;
    roomPrefix?: string;
    /**
     * Create it without allowed addresses or credentials anyway. Any SIP client can then call it
     * with any caller number, so keep CALLER_ID_TRUST_SIP=none (decision 012).
     */
    allowOpen?: boolean;
  };
}

/** Whether a planned trunk takes calls from anyone (no allowed addresses, no digest credentials). */
export const isOpenTrunk = (trunk: Pick<InboundTrunkSpec, 'allowedAddresses' | 'authUsername' | 'authPassword'>): boolean =>
  trunk.allowedAddresses.length === 0 && (trunk.authUsername === '' || trunk.authPassword === '');

/**
 * The trunks and rules both call paths need (docs/architecture.md): a trunk for Twilio's `<Dial><Sip>`
 * with a callee rule and an empty prefix, so the caller lands in exactly the room the dispatch
 * service created; and a trunk for a direct SIP provider whose individual rule gives each call
 * its own room and dispatches the agent, which then resolves the caller itself.
 */
export function buildPracticeLinePlan(input: PracticeLinePlanInput): SipPlan {
  const prefix = input.namePrefix ?? 'practice-line';
  const plan: SipPlan = { trunks: [], rules: [] };
  if (input.twilio !== false) {
    const twilio = input.twilio ?? {};
    const hasAuth = (twilio.authUsername ?? '') !== '' && (twilio.authPassword ?? '') !== '';
    if (!hasAuth && (twilio.allowedAddresses ?? []).length === 0) {
      // LiveKit refuses a trunk that answers any number from anyone without credentials.
      throw new Error('the Twilio trunk needs digest credentials or allowed addresses (or both)');
    }
    plan.trunks.push({
      name: `${prefix}-twilio`,
      numbers: [],
      allowedAddresses: twilio.allowedAddresses ?? [],
      allowedNumbers: [],
      authUsername: twilio.authUsername ?? '',
      authPassword: twilio.authPassword ?? '',
      headersToAttributes: { [practiceCallHeader]: practiceCallAttribute },
      metadata: '',
    });
    plan.rules.push({
      name: `${prefix}-twilio`,
      trunks: [`${prefix}-twilio`],
      rule: { type: 'callee', roomPrefix: '', randomize: false },
      agents: [],
      attributes: {},
      metadata: '',
    });
  }
  if (input.direct !== undefined && input.direct.numbers.length > 0) {
    const hasAuth = (input.direct.authUsername ?? '') !== '' && (input.direct.authPassword ?? '') !== '';
    if (!hasAuth && (input.direct.allowedAddresses ?? []).length === 0 && !input.direct.allowOpen) {
      // An open trunk lets any SIP client in with a From of its choosing: PINs can then be guessed
      // from as many "callers" as it likes, and caller ID means nothing.
      throw new OpenTrunkError(
        'refusing to create an open direct trunk: without allowed addresses or digest credentials any SIP client on the internet ' +
          'can call it and claim any caller number. Give it your carrier’s signalling addresses (--direct-address CIDR, repeatable; ' +
          '--twilio-path trunk uses Twilio’s documented ranges) and/or digest credentials (--direct-user U --direct-password P), ' +
          'or pass --allow-open-trunk to create it open anyway',
      );
    }
    plan.trunks.push({
      name: `${prefix}-direct`,
      numbers: [...input.direct.numbers],
      allowedAddresses: input.direct.allowedAddresses ?? [],
      allowedNumbers: [],
      authUsername: input.direct.authUsername ?? '',
      authPassword: input.direct.authPassword ?? '',
      headersToAttributes: {},
      metadata: '',
    });
    plan.rules.push({
      name: `${prefix}-direct`,
      trunks: [`${prefix}-direct`],
      rule: { type: 'individual', roomPrefix: input.direct.roomPrefix ?? 'practice-direct-' },
      // The agent learns it must collect a PIN from this (src/domain/room_metadata.ts): an empty
      // dispatch metadata would be refused as unparseable.
      agents: [{ agentName: input.agentName, metadata: JSON.stringify(AWAITING_PIN_METADATA) }],
      attributes: {},
      metadata: '',
    });
  }
  return plan;
}

/** The slice of livekit-server-sdk's SipClient this needs (so a test can see every call). */
export type SipAdminApi = Pick<
  SipClient,
  | 'listSipInboundTrunk'
  | 'createSipInboundTrunk'
  | 'updateSipInboundTrunk'
  | 'listSipDispatchRule'
  | 'createSipDispatchRule'
  | 'updateSipDispatchRule'
>;

export interface EnsureAction {
  object: 'trunk' | 'rule';
  name: string;
  action: 'create' | 'update' | 'keep';
  /** Undefined only for a create in a dry run. */
  id: string | undefined;
  /** Fields that differ (update) — values of secrets are never shown. */
  changes: string[];
  /** For trunks: who may call it (allowed addresses, whether digest auth is on), so a dry run shows it. */
  access?: string;
}

/** "addresses 54.172.60.0/30, …; digest auth" — never the credentials themselves. */
export function describeAccess(trunk: Pick<InboundTrunkSpec, 'allowedAddresses' | 'authUsername' | 'authPassword'>): string {
  const addresses = trunk.allowedAddresses.length > 0 ? `addresses ${trunk.allowedAddresses.join(', ')}` : 'any address';
  const auth = trunk.authUsername !== '' && trunk.authPassword !== '' ? 'digest auth' : 'no auth';
  return isOpenTrunk(trunk) ? `${addresses}, ${auth}: OPEN to any SIP client` : `${addresses}; ${auth}`;
}

export interface EnsureResult {
  dryRun: boolean;
  actions: EnsureAction[];
  trunkIds: Record<string, string>;
  ruleIds: Record<string, string>;
}

const sorted = (values: readonly string[]): string[] => [...values].sort();
const sortedRecord = (record: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

function trunkFields(t: {
  numbers: readonly string[];
  allowedAddresses: readonly string[];
  allowedNumbers: readonly string[];
  authUsername: string;
  authPassword: string;
  headersToAttributes: Record<string, string>;
  metadata: string;
}): Record<string, unknown> {
  return {
    numbers: sorted(t.numbers),
    allowedAddresses: sorted(t.allowedAddresses),
    allowedNumbers: sorted(t.allowedNumbers),
    authUsername: t.authUsername,
    authPassword: t.authPassword,
    headersToAttributes: sortedRecord(t.headersToAttributes),
    metadata: t.metadata,
  };
}

function ruleShapeOf(rule: SIPDispatchRule | undefined): DispatchRuleShape | undefined {
  switch (rule?.rule.case) {
    case 'dispatchRuleCallee':
      return { type: 'callee', roomPrefix: rule.rule.value.roomPrefix, randomize: rule.rule.value.randomize };
    case 'dispatchRuleIndividual':
      return { type: 'individual', roomPrefix: rule.rule.value.roomPrefix };
    default:
      return undefined;
  }
}

function ruleFields(r: {
  trunkIds: readonly string[];
  rule: DispatchRuleShape | undefined;
  agents: Array<{ agentName: string; metadata: string }>;
  attributes: Record<string, string>;
  metadata: string;
}): Record<string, unknown> {
  return {
    trunkIds: sorted(r.trunkIds),
    rule: r.rule,
    agents: r.agents.map((a) => ({ agentName: a.agentName, metadata: a.metadata })),
    attributes: sortedRecord(r.attributes),
    metadata: r.metadata,
  };
}

function diff(have: Record<string, unknown>, want: Record<string, unknown>): string[] {
  return Object.keys(want).filter((key) => JSON.stringify(have[key]) !== JSON.stringify(want[key]));
}

function toRuleProto(shape: DispatchRuleShape): SIPDispatchRule {
  return shape.type === 'callee'
    ? new SIPDispatchRule({
        rule: { case: 'dispatchRuleCallee', value: new SIPDispatchRuleCallee({ roomPrefix: shape.roomPrefix, randomize: shape.randomize }) },
      })
    : new SIPDispatchRule({
        rule: { case: 'dispatchRuleIndividual', value: new SIPDispatchRuleIndividual({ roomPrefix: shape.roomPrefix }) },
      });
}

function toRoomConfig(spec: DispatchRuleSpec): RoomConfiguration | undefined {
  if (spec.agents.length === 0) return undefined;
  return new RoomConfiguration({
    agents: spec.agents.map((a) => new RoomAgentDispatch({ agentName: a.agentName, metadata: a.metadata })),
  });
}

function uniqueByName<T extends { name: string }>(items: readonly T[], what: string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    if (map.has(item.name)) throw new Error(`two ${what}s are named "${item.name}"; names must be unique to provision by name`);
    map.set(item.name, item);
  }
  return map;
}

/** Creates or updates every trunk and rule of `plan` so the server matches it. */
export async function ensureSip(api: SipAdminApi, plan: SipPlan, options: { dryRun?: boolean } = {}): Promise<EnsureResult> {
  const dryRun = options.dryRun ?? false;
  const result: EnsureResult = { dryRun, actions: [], trunkIds: {}, ruleIds: {} };
  uniqueByName(plan.trunks, 'planned trunk');
  uniqueByName(plan.rules, 'planned rule');

  const existingTrunks = uniqueByName(await api.listSipInboundTrunk(), 'inbound trunk');
  for (const spec of plan.trunks) {
    const have = existingTrunks.get(spec.name);
    const want = trunkFields(spec);
    if (have === undefined) {
      let id: string | undefined;
      if (!dryRun) {
        const created = await api.createSipInboundTrunk(spec.name, spec.numbers, {
          metadata: spec.metadata,
          allowedAddresses: spec.allowedAddresses,
          allowedNumbers: spec.allowedNumbers,
          authUsername: spec.authUsername,
          authPassword: spec.authPassword,
          headersToAttributes: spec.headersToAttributes,
        });
        id = created.sipTrunkId;
        result.trunkIds[spec.name] = id;
      }
      result.actions.push({ object: 'trunk', name: spec.name, action: 'create', id, changes: [], access: describeAccess(spec) });
      continue;
    }
    result.trunkIds[spec.name] = have.sipTrunkId;
    const changes = diff(trunkFields(have), want);
    if (changes.length > 0 && !dryRun) {
      const updated = new SIPInboundTrunkInfo({
        ...have,
        numbers: spec.numbers,
        allowedAddresses: spec.allowedAddresses,
        allowedNumbers: spec.allowedNumbers,
        authUsername: spec.authUsername,
        authPassword: spec.authPassword,
        headersToAttributes: spec.headersToAttributes,
        metadata: spec.metadata,
      });
      await api.updateSipInboundTrunk(have.sipTrunkId, updated);
    }
    result.actions.push({ object: 'trunk', name: spec.name, action: changes.length > 0 ? 'update' : 'keep', id: have.sipTrunkId, changes, access: describeAccess(spec) });
  }

  const existingRules = uniqueByName(await api.listSipDispatchRule(), 'dispatch rule');
  for (const spec of plan.rules) {
    const trunkIds = spec.trunks.map((name) => {
      const id = result.trunkIds[name];
      if (id === undefined && !plan.trunks.some((t) => t.name === name)) throw new Error(`rule "${spec.name}" names unknown trunk "${name}"`);
      return id ?? `(new trunk ${name})`;
    });
    const want = ruleFields({ trunkIds, rule: spec.rule, agents: spec.agents, attributes: spec.attributes, metadata: spec.metadata });
    const have = existingRules.get(spec.name);
    if (have === undefined) {
      let id: string | undefined;
      if (!dryRun) {
        const roomConfig = toRoomConfig(spec);
        const created = await api.createSipDispatchRule(
          spec.rule.type === 'callee'
            ? { type: 'callee', roomPrefix: spec.rule.roomPrefix, randomize: spec.rule.randomize }
            : { type: 'individual', roomPrefix: spec.rule.roomPrefix },
          {
            name: spec.name,
            metadata: spec.metadata,
            trunkIds,
            attributes: spec.attributes,
            ...(roomConfig === undefined ? {} : { roomConfig }),
          },
        );
        id = created.sipDispatchRuleId;
        result.ruleIds[spec.name] = id;
      }
      result.actions.push({ object: 'rule', name: spec.name, action: 'create', id, changes: [] });
      continue;
    }
    result.ruleIds[spec.name] = have.sipDispatchRuleId;
    const haveFields = ruleFields({
      trunkIds: have.trunkIds,
      rule: ruleShapeOf(have.rule),
      agents: (have.roomConfig?.agents ?? []).map((a) => ({ agentName: a.agentName, metadata: a.metadata })),
      attributes: have.attributes,
      metadata: have.metadata,
    });
    const changes = diff(haveFields, want);
    if (changes.length > 0 && !dryRun) {
      const roomConfig = toRoomConfig(spec);
      const updated = new SIPDispatchRuleInfo({
        ...have,
        trunkIds,
        rule: toRuleProto(spec.rule),
        attributes: spec.attributes,
        metadata: spec.metadata,
      });
      if (roomConfig === undefined) delete updated.roomConfig;
      else updated.roomConfig = roomConfig;
      await api.updateSipDispatchRule(have.sipDispatchRuleId, updated);
    }
    result.actions.push({ object: 'rule', name: spec.name, action: changes.length > 0 ? 'update' : 'keep', id: have.sipDispatchRuleId, changes });
  }
  return result;
}

/** One line per action, for the CLI and for logs. */
export function formatActions(result: EnsureResult): string {
  const lines = result.actions.map((a) => {
    const what = a.action === 'update' ? `update (${a.changes.join(', ')})` : a.action;
    const access = a.access !== undefined && a.action !== 'keep' ? ` [${a.access}]` : '';
    return `${result.dryRun ? '[dry-run] ' : ''}${a.object} ${a.name}: ${what}${a.id === undefined ? '' : ` ${a.id}`}${access}`;
  });
  return lines.join('\n');
}
