/**
 * The tnetstring schema of flow states at format 21: which fields are floats (written `^`
 * even when integral, e.g. `946681200.0`) and the key order mitmproxy's `get_state()` uses.
 * The encoder writes dict entries back to front, so files hold each dict in reverse of this
 * order, byte for byte what mitmproxy writes.
 */
import type { FlowState } from '../flow/state.js';
import { encode, FLOAT, type TnetDictSchema, type TnetSchema } from './tnet-encode.js';

const CONNECTION_ORDER = [
  'peername',
  'sockname',
  'id',
  'transport_protocol',
  'error',
  'tls',
  'certificate_list',
  'alpn',
  'alpn_offers',
  'cipher',
  'cipher_list',
  'tls_version',
  'sni',
  'timestamp_start',
  'timestamp_end',
  'timestamp_tls_setup',
] as const;

const CONNECTION_FLOATS = { timestamp_start: FLOAT, timestamp_end: FLOAT, timestamp_tls_setup: FLOAT };

export const CLIENT_SCHEMA: TnetDictSchema = {
  fields: CONNECTION_FLOATS,
  order: [...CONNECTION_ORDER, 'mitmcert', 'proxy_mode'],
};

export const SERVER_SCHEMA: TnetDictSchema = {
  fields: { ...CONNECTION_FLOATS, timestamp_tcp_setup: FLOAT },
  order: [...CONNECTION_ORDER, 'address', 'timestamp_tcp_setup', 'via'],
};

export const ERROR_SCHEMA: TnetDictSchema = { fields: { timestamp: FLOAT }, order: ['msg', 'timestamp'] };

const MESSAGE_ORDER = ['http_version', 'headers', 'content', 'trailers', 'timestamp_start', 'timestamp_end'] as const;
const MESSAGE_FLOATS = { timestamp_start: FLOAT, timestamp_end: FLOAT };

export const REQUEST_SCHEMA: TnetDictSchema = {
  fields: MESSAGE_FLOATS,
  order: [...MESSAGE_ORDER, 'host', 'port', 'method', 'scheme', 'authority', 'path'],
};

export const RESPONSE_SCHEMA: TnetDictSchema = {
  fields: MESSAGE_FLOATS,
  order: [...MESSAGE_ORDER, 'status_code', 'reason'],
};

export const WEBSOCKET_SCHEMA: TnetDictSchema = {
  fields: {
    messages: { items: { tuple: [undefined, undefined, undefined, FLOAT, undefined, undefined] } },
    timestamp_end: FLOAT,
  },
  order: ['messages', 'closed_by_client', 'close_code', 'close_reason', 'timestamp_end'],
};

export const TCP_MESSAGES_SCHEMA: TnetSchema = { items: { tuple: [undefined, undefined, FLOAT] } };

const DNS_QUESTION: TnetDictSchema = { fields: {}, order: ['name', 'type', 'class_'] };
const DNS_RR: TnetDictSchema = { fields: {}, order: ['name', 'type', 'class_', 'ttl', 'data'] };
const DNS_MESSAGE: TnetDictSchema = {
  fields: {
    questions: { items: DNS_QUESTION },
    answers: { items: DNS_RR },
    authorities: { items: DNS_RR },
    additionals: { items: DNS_RR },
    timestamp: FLOAT,
  },
  order: [
    'id',
    'query',
    'op_code',
    'authoritative_answer',
    'truncation',
    'recursion_desired',
    'recursion_available',
    'reserved',
    'response_code',
    'questions',
    'answers',
    'authorities',
    'additionals',
    'timestamp',
  ],
};

/** The keys every flow's state starts with, in mitmproxy's order. */
export const FLOW_ORDER = [
  'version',
  'type',
  'id',
  'error',
  'client_conn',
  'server_conn',
  'intercepted',
  'is_replay',
  'marked',
  'metadata',
  'comment',
  'timestamp_created',
  'backup',
] as const;

/**
 * One schema for every flow type: the type-specific keys (`request`, `response`, `websocket`,
 * `messages`) are resolved per type below, since `request` means different things for HTTP
 * and DNS flows.
 */
function flowSchema(type: string): TnetDictSchema {
  const fields: TnetDictSchema['fields'] = {
    error: ERROR_SCHEMA,
    client_conn: CLIENT_SCHEMA,
    server_conn: SERVER_SCHEMA,
    timestamp_created: FLOAT,
    backup: undefined, // filled in below (recursive, depends on the backup's own type)
  };
  switch (type) {
    case 'http':
      return {
        fields: { ...fields, request: REQUEST_SCHEMA, response: RESPONSE_SCHEMA, websocket: WEBSOCKET_SCHEMA },
        order: [...FLOW_ORDER, 'request', 'response', 'websocket'],
      };
    case 'tcp':
    case 'udp':
      return { fields: { ...fields, messages: TCP_MESSAGES_SCHEMA }, order: [...FLOW_ORDER, 'messages'] };
    case 'dns':
      return {
        fields: { ...fields, request: DNS_MESSAGE, response: DNS_MESSAGE },
        order: [...FLOW_ORDER, 'request', 'response'],
      };
    default:
      return { fields, order: FLOW_ORDER };
  }
}

const FLOW_SCHEMAS = new Map<string, TnetDictSchema>(['http', 'tcp', 'udp', 'dns'].map((t) => [t, flowSchema(t)]));

/** The schema for a flow state of the given type (`backup` uses the same schema). */
export function schemaForFlowType(type: string): TnetDictSchema {
  let s = FLOW_SCHEMAS.get(type);
  if (s === undefined) {
    s = flowSchema(type);
    FLOW_SCHEMAS.set(type, s);
  }
  return s;
}
for (const s of FLOW_SCHEMAS.values()) s.fields.backup = s;

/** Encode one flow state as the tnetstring record mitmproxy would write for it. */
export function encodeFlowState(state: FlowState): Buffer {
  return encode(state, schemaForFlowType(state.type));
}
