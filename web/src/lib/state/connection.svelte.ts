export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting';

/** The graphql-ws socket's state, fed by its `on` callbacks. */
export class ConnectionState {
  status = $state<ConnectionStatus>('connecting');
  /** When the socket last opened (ms since epoch), or null before the first connection. */
  connectedAt = $state<number | null>(null);
  #everConnected = false;

  label = $derived(this.status === 'connected' ? 'Live' : this.status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…');

  connecting(): void {
    this.status = this.#everConnected ? 'reconnecting' : 'connecting';
  }

  connected(now = Date.now()): void {
    this.#everConnected = true;
    this.connectedAt = now;
    this.status = 'connected';
  }

  closed(): void {
    this.status = this.#everConnected ? 'reconnecting' : 'connecting';
  }
}

export const connection = new ConnectionState();
