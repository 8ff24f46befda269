import { mount, untrack } from 'svelte';
import App from './App.svelte';
import { createRelearnClient } from './lib/graphql/client.js';
import { adminToken } from './lib/state/admin-token.svelte.js';
import { connection } from './lib/state/connection.svelte.js';
import './app.css';

const { client } = createRelearnClient({
  origin: window.location.origin,
  // Read outside any tracking: a request sent from an $effect must not make it depend on the token.
  adminToken: () => untrack(() => adminToken.value),
  onConnecting: () => connection.connecting(),
  onConnected: () => connection.connected(),
  onClosed: () => connection.closed(),
});

mount(App, { target: document.getElementById('app')!, props: { client } });
