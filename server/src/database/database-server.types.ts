/**
 * Where Relearn's PostgreSQL lives. The real adapter is a server given by URL; the embedded
 * adapter runs PGlite in this process behind a PostgreSQL socket, so both use the same driver
 * and the same migrations. (A leaf module: both adapters implement it without importing each other.)
 */
export interface DatabaseServer {
  readonly url: string;
  readonly kind: 'postgres' | 'embedded';
  stop(): Promise<void>;
}
