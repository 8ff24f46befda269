type TokenStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const KEY = 'relearn.adminToken';

/** The admin token, entered once per tab and kept in sessionStorage (gone when the tab closes). */
export class AdminTokenState {
  value = $state('');
  present = $derived(this.value.length > 0);
  readonly #storage: TokenStorage | null;

  constructor(storage: TokenStorage | null) {
    this.#storage = storage;
    this.value = storage?.getItem(KEY) ?? '';
  }

  set(token: string): void {
    this.value = token.trim();
    if (this.value) this.#storage?.setItem(KEY, this.value);
    else this.#storage?.removeItem(KEY);
  }

  clear(): void {
    this.set('');
  }
}

export const adminToken = new AdminTokenState(typeof sessionStorage === 'undefined' ? null : sessionStorage);
