/**
 * Whether the page can reach its host. In browser mode the event socket tells: it closes when the
 * server stops and opens again when it is back (the transport reconnects by itself); a token the
 * server no longer accepts is told apart by asking it. The desktop app's IPC is always there.
 */
import { create } from 'zustand';

/** 'lost': the server is unreachable; 'refused': it answers but not to this page's token. */
export type ConnectionState = 'connecting' | 'open' | 'lost' | 'refused';

export const useConnection = create<{ state: ConnectionState }>(() => ({ state: 'connecting' }));

const reconnectListeners = new Set<() => void>();

/** Runs `listener` each time the connection comes back after it was lost; returns the unsubscribe. */
export function onReconnected(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

export function connectionOpened(): void {
  const previous = useConnection.getState().state;
  useConnection.setState({ state: 'open' });
  if (previous === 'lost' || previous === 'refused') reconnectListeners.forEach((l) => l());
}

export function connectionLost(refused: boolean): void {
  const previous = useConnection.getState().state;
  // Before the first open, a failure is still "connecting" unless the token is refused.
  if (refused) useConnection.setState({ state: 'refused' });
  else if (previous === 'open') useConnection.setState({ state: 'lost' });
}
