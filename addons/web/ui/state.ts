/** The page's state, as signals: components re-render when what they read changes. */
import { signal } from '@preact/signals';
import type { FlowRow, SortSpecJson, WebEvent, WebFlow, WebOption, WebState } from '../src/protocol.js';

/** Height of one table row in pixels (fixed: the table is virtual). */
export const ROW_HEIGHT = 22;

/** The window of rows the server sent, its position, and the counts. */
export const rows = signal<FlowRow[]>([]);
export const offset = signal(0);
export const count = signal(0);
export const total = signal(0);

export const filterText = signal('');
export const filterError = signal<string | null>(null);
export const sort = signal<SortSpecJson>({ column: 'seq', desc: false });

export const selectedId = signal<string | null>(null);
/** Details of the selected flow (refetched when its row changes). */
export const selected = signal<WebFlow | null>(null);

export const events = signal<WebEvent[]>([]);
export const options = signal<Record<string, WebOption>>({});
export const serverState = signal<WebState | null>(null);
export const connected = signal(false);
/** A message for the user (an action failed). */
export const notice = signal<string | null>(null);
export const pane = signal<'flows' | 'options'>('flows');
