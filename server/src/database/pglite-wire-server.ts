import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.js';

// Hand-written instead of @electric-sql/pglite-socket: its queue interleaves single wire messages of
// different connections and wedges after an exception (electric-sql/pglite#1046, unfixed upstream).

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** PostgreSQL's own limit for one message (PQ_LARGE_MESSAGE_LIMIT is 1 GB; 256 MB is plenty here). */
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const ROLLBACK = simpleQuery('ROLLBACK');

export interface PGliteWireServerOptions {
  host?: string;
  port?: number;
  maxConnections?: number;
  logger?: Logger;
  /** A connection holding the database this long while others wait is logged (once per hold). */
  slowHoldWarningMs?: number;
}

/**
 * One PGlite (a single PostgreSQL backend) shared by many PostgreSQL wire-protocol connections.
 * Each connection's messages are framed and grouped into units that end at Sync, a simple Query
 * (or Flush, a password, a function call); a unit runs as one exclusive call into PGlite. The
 * connection keeps the backend — others queue — until its ReadyForQuery says idle, so an
 * extended-protocol cycle or a transaction is never interleaved with another connection's.
 * A failing call ends only that connection; a connection that goes away mid-transaction is
 * rolled back. A transaction that waits for another connection's query therefore deadlocks here
 * (it cannot on a real server): the holder is logged when others have waited long.
 */
export class PGliteWireServer {
  private server: Server | null = null;
  private readonly connections = new Set<WireConnection>();
  /** Connections with a unit to run, oldest first. */
  private readonly waiting: WireConnection[] = [];
  /** The connection the backend belongs to until its cycle/transaction ends. */
  private holder: WireConnection | null = null;
  private pumping: Promise<void> | null = null;
  private nextId = 1;
  private readonly host: string;
  private readonly maxConnections: number;
  private readonly logger?: Logger;
  private readonly slowHoldWarningMs: number;
  private warnTimer: NodeJS.Timeout | null = null;
  port = 0;

  constructor(
    private readonly db: PGlite,
    private readonly options: PGliteWireServerOptions = {},
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.maxConnections = options.maxConnections ?? 64;
    this.logger = options.logger;
    this.slowHoldWarningMs = options.slowHoldWarningMs ?? 10_000;
  }

  async start(): Promise<void> {
    await this.db.waitReady;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.logger?.error({ err: error }, 'embedded PostgreSQL socket error'));
    this.port = (server.address() as { port: number }).port;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get stats() {
    return { connections: this.connections.size, waiting: this.waiting.length, holder: this.holder?.id ?? null };
  }

  /** Closes every connection (rolling back an open transaction) and stops listening. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    const gone = [...this.connections].map((c) => {
      c.socket.destroy();
      return c.gone;
    });
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(gone);
    // Closed sockets schedule their clean-up; wait for it so the caller may close PGlite.
    while (this.pumping) await this.pumping;
    if (this.warnTimer) clearTimeout(this.warnTimer);
  }

  private accept(socket: Socket): void {
    if (!this.server || this.connections.size >= this.maxConnections) {
      socket.end(errorResponse('FATAL', '53300', 'sorry, too many clients already'));
      return;
    }
    const connection = new WireConnection(this.nextId++, socket);
    this.connections.add(connection);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      try {
        if (connection.receive(chunk)) this.ready(connection);
      } catch (error) {
        this.fail(connection, error as Error);
      }
    });
    socket.on('error', () => {}); // 'close' follows; a reset peer is ordinary
    socket.on('close', () => {
      this.closed(connection);
      connection.markGone();
    });
  }

  /** The connection has a complete unit: queue it for the backend. */
  private ready(connection: WireConnection): void {
    if (!this.waiting.includes(connection)) this.waiting.push(connection);
    this.pump();
  }

  private closed(connection: WireConnection): void {
    connection.closed = true;
    this.connections.delete(connection);
    connection.units.length = 0;
    const i = this.waiting.indexOf(connection);
    if (i >= 0) this.waiting.splice(i, 1);
    // The holder's transaction (or half-done cycle) is undone before anyone else runs.
    if (this.holder === connection) this.pump();
  }

  /** Ends one connection with a FATAL ErrorResponse (08P01 protocol violation, XX000 PGlite failure). */
  private fail(connection: WireConnection, error: Error, code = '08P01'): void {
    this.logger?.warn({ connection: connection.id, err: error }, 'embedded PostgreSQL: connection closed on error');
    connection.closed = true;
    if (!connection.socket.destroyed) connection.socket.end(errorResponse('FATAL', code, error.message));
    connection.socket.destroySoon();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = this.run().finally(() => {
      this.pumping = null;
      // Work that arrived while the loop was finishing.
      if (this.next()) this.pump();
    });
  }

  /** The next connection allowed to run, or null to wait. */
  private next(): WireConnection | null {
    if (this.holder) return this.holder.closed || this.holder.units.length > 0 ? this.holder : null;
    return this.waiting.find((c) => c.units.length > 0) ?? null;
  }

  private async run(): Promise<void> {
    for (let c = this.next(); c; c = this.next()) {
      const i = this.waiting.indexOf(c);
      if (i >= 0) this.waiting.splice(i, 1);
      if (c.closed) {
        c.units.length = 0;
        await this.release(c);
        continue;
      }
      this.take(c);
      const unit = c.units.shift()!;
      // Pipelined units of one connection take turns with the others' (it holds the backend only mid-cycle or in a transaction).
      if (c.units.length > 0) this.waiting.push(c);
      c.beginUnit();
      try {
        await this.execute(unit, (bytes) => c.write(bytes));
      } catch (error) {
        // PGlite threw instead of answering with an ErrorResponse: end this connection only.
        this.fail(c, error as Error, 'XX000');
        c.closed = true;
        await this.release(c);
        continue;
      }
      if (c.idle) this.holder = null;
      else if (c.closed) await this.release(c);
      if (c.terminated && c.units.length === 0) c.socket.end();
    }
    this.armWarning();
  }

  private take(c: WireConnection): void {
    if (this.holder !== c) {
      this.holder = c;
      c.heldSince = Date.now();
      c.warned = false;
    }
  }

  /** Frees the backend from a connection that is gone: finish its cycle, roll back its transaction. */
  private async release(c: WireConnection): Promise<void> {
    try {
      if (this.holder === c && !c.idle) {
        if (!c.cycleDone) await this.execute(SYNC, () => {});
        if (this.db.isInTransaction()) await this.execute(ROLLBACK, () => {});
      }
    } catch (error) {
      this.logger?.error({ connection: c.id, err: error }, 'embedded PostgreSQL: could not roll back a closed connection');
    } finally {
      if (this.holder === c) this.holder = null;
    }
  }

  private async execute(message: Uint8Array, onData: (bytes: Uint8Array) => void): Promise<void> {
    await this.db.runExclusive(() => this.db.execProtocolRawStream(message, { onRawData: onData }));
  }

  /** Others waiting behind a long hold is how a transaction that awaits another connection looks. */
  private armWarning(): void {
    if (this.warnTimer || !this.holder || this.waiting.length === 0) return;
    const holder = this.holder;
    const delay = Math.max(0, holder.heldSince + this.slowHoldWarningMs - Date.now());
    this.warnTimer = setTimeout(() => {
      this.warnTimer = null;
      // Once per hold; the next pass of the queue arms it again for another holder.
      if (this.holder === holder && this.waiting.length > 0 && !holder.warned) {
        holder.warned = true;
        this.logger?.warn(
          { connection: holder.id, heldMs: Date.now() - holder.heldSince, waiting: this.waiting.length },
          'embedded PostgreSQL: one connection has held the database (an open transaction) while others wait; ' +
            'a transaction that awaits another connection never finishes on the embedded database',
        );
      }
    }, delay);
    this.warnTimer.unref();
  }
}

/** One client connection: its framer and what its last answer said about the backend's state. */
class WireConnection {
  readonly units: Buffer[] = [];
  closed = false;
  /** Terminate received: end the socket once the units before it have run. */
  terminated = false;
  heldSince = 0;
  warned = false;
  /** The last unit's answer ended with ReadyForQuery. */
  cycleDone = true;
  /** ...and its status was idle (not in a transaction). */
  idle = true;
  private input: Buffer = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private started = false;
  private readonly output = new ReadyForQueryScanner();
  readonly gone: Promise<void>;
  markGone: () => void = () => {};

  constructor(
    readonly id: number,
    readonly socket: Socket,
  ) {
    this.gone = new Promise((resolve) => (this.markGone = resolve));
  }

  /** Until its answer ends with ReadyForQuery(idle), the unit leaves the backend busy for this connection. */
  beginUnit(): void {
    this.cycleDone = false;
    this.idle = false;
  }

  /** Takes bytes from the client; true when at least one unit became complete. */
  receive(chunk: Buffer): boolean {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    let completed = false;
    while (!this.closed && !this.terminated) {
      if (!this.started) {
        // Startup-phase packets have no type byte: length, then a code.
        if (this.input.length < 8) break;
        const length = this.input.readInt32BE(0);
        const code = this.input.readInt32BE(4);
        if (length < 8 || length > 10_000) throw new Error(`invalid startup packet length ${length}`);
        if (this.input.length < length) break;
        const packet = this.input.subarray(0, length);
        this.input = this.input.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N'); // no encryption on loopback; the client goes on in plain text
        } else if (code === CANCEL_REQUEST) {
          this.socket.end(); // PGlite has no other backend to signal: nothing to cancel
          this.closed = true;
        } else if (code === PROTOCOL_3) {
          // PGlite exits for good on a FATAL startup error (no user): refuse such a packet here.
          const problem = startupProblem(packet);
          if (problem) {
            this.socket.end(errorResponse('FATAL', problem.code, problem.message));
            this.closed = true;
            break;
          }
          this.started = true;
          this.units.push(Buffer.from(packet));
          completed = true;
        } else {
          throw new Error(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}`);
        }
        continue;
      }
      if (this.input.length < 5) break;
      const type = this.input[0]!;
      const length = this.input.readInt32BE(1);
      if (length < 4 || length > MAX_MESSAGE_BYTES) throw new Error(`invalid message length ${length}`);
      if (this.input.length < length + 1) break;
      const message = this.input.subarray(0, length + 1);
      this.input = this.input.subarray(length + 1);
      if (type === 0x58 /* X Terminate */) {
        // What came before it still runs (a COMMIT then Terminate commits); then the socket ends.
        this.terminated = true;
        if (this.units.length === 0) this.socket.end();
        break;
      }
      this.pending.push(message);
      // Sync, Query, Flush, PasswordMessage, FunctionCall, CopyDone, CopyFail: the client waits for an answer.
      if ([0x53, 0x51, 0x48, 0x70, 0x46, 0x63, 0x66].includes(type)) {
        this.units.push(Buffer.concat(this.pending));
        this.pending = [];
        completed = true;
      }
    }
    return completed;
  }

  /** Forwards PGlite's answer (a view into its heap: copied) and notes where the cycle stands. */
  write(bytes: Uint8Array): void {
    const status = this.output.scan(bytes);
    if (status === null) {
      this.cycleDone = false;
      this.idle = false;
    } else {
      this.cycleDone = true;
      this.idle = status === 0x49; /* 'I' */
    }
    if (!this.socket.destroyed) this.socket.write(Buffer.from(bytes));
  }
}

/**
 * Follows the backend's message framing across chunks. `scan` returns the status byte when the
 * chunk ends right after a ReadyForQuery, else null (a cycle still under way).
 */
class ReadyForQueryScanner {
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private remaining = 0;
  private type = 0;
  private last: number | null = null;

  scan(bytes: Uint8Array): number | null {
    let i = 0;
    while (i < bytes.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, bytes.length - i);
        if (this.type === 0x5a && take > 0) this.last = bytes[i]!;
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header[this.headerBytes++] = bytes[i++]!;
      if (this.headerBytes === 5) {
        this.headerBytes = 0;
        this.type = this.header[0]!;
        this.remaining = this.header.readInt32BE(1) - 4;
        this.last = null;
      }
    }
    return this.remaining === 0 && this.headerBytes === 0 && this.type === 0x5a ? this.last : null;
  }
}

/** Why PostgreSQL would refuse this StartupMessage (key/value C strings, then a NUL), if it would. */
function startupProblem(packet: Buffer): { code: string; message: string } | null {
  const fields = packet.subarray(8).toString('utf8').split('\0');
  // A well-formed body ends with the pair list's terminator: "k\0v\0...\0" splits into pairs, '', ''.
  if (fields.length < 2 || fields.at(-1) !== '' || fields.at(-2) !== '' || (fields.length - 2) % 2 !== 0) {
    return { code: '08P01', message: 'invalid startup packet layout: expected terminator as last byte' };
  }
  for (let i = 0; i + 1 < fields.length - 2; i += 2) {
    if (fields[i] === 'user' && fields[i + 1] !== '') return null;
  }
  return { code: '28000', message: 'no PostgreSQL user name specified in startup packet' };
}

function simpleQuery(text: string): Buffer {
  const body = Buffer.from(`${text}\0`);
  const message = Buffer.alloc(5 + body.length);
  message.write('Q', 0);
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

function errorResponse(severity: string, code: string, text: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${text}\0\0`);
  const message = Buffer.alloc(5 + fields.length);
  message.write('E', 0);
  message.writeInt32BE(4 + fields.length, 1);
  fields.copy(message, 5);
  return message;
}
