/** Flow actions from the toolbar: each is one API call; failures become a notice. */
import type { WebFlow } from '../src/protocol.js';
import { send } from './api.js';
import * as s from './state.js';

export async function act(label: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    s.notice.value = null;
    await fn();
    await refreshSelected();
  } catch (err) {
    s.notice.value = `${label}: ${(err as Error).message}`;
  }
}

export async function refreshSelected(): Promise<void> {
  const id = s.selectedId.value;
  if (!id) {
    s.selected.value = null;
    return;
  }
  try {
    s.selected.value = await send<WebFlow>('GET', `/flows/${encodeURIComponent(id)}`);
  } catch {
    s.selected.value = null;
  }
}

export const flowPath = (id: string): string => `/flows/${encodeURIComponent(id)}`;

export const post = (id: string, action: string): Promise<unknown> => send('POST', `${flowPath(id)}/${action}`);
export const edit = (id: string, body: unknown): Promise<unknown> => send('PUT', flowPath(id), body);
