// Every answer is checked (not sampled): status, GraphQL errors, and the id it must carry. Any
// failure in any run (warm-ups included) fails the benchmark.

export interface Tally {
  ok: number;
  non2xx: number;
  gqlErrors: number;
  malformed: number;
  netErrors: number;
  timeouts: number;
  firstError?: string;
}
export const newTally = (): Tally => ({ ok: 0, non2xx: 0, gqlErrors: 0, malformed: 0, netErrors: 0, timeouts: 0 });
export const failures = (t: Tally) => t.non2xx + t.gqlErrors + t.malformed + t.netErrors + t.timeouts;

/** The tallies of every run of this benchmark, by what the run was. */
export class Tallies {
  readonly all: { what: string; tally: Tally }[] = [];

  /** A new tally for `what`, counted in the benchmark's failures. */
  start(what: string): Tally {
    const tally = newTally();
    this.all.push({ what, tally });
    return tally;
  }

  /** Counts an existing tally under `what`. */
  add(what: string, tally: Tally): Tally {
    this.all.push({ what, tally });
    return tally;
  }

  get failed() {
    return this.all.filter((t) => failures(t.tally) > 0);
  }

  get totalFailures() {
    return this.all.reduce((a, t) => a + failures(t.tally), 0);
  }
}

/** A check of raw answers that must match `idPattern`; the ids it finds are pushed to `collect`. */
export function idChecker(tally: Tally, idPattern: RegExp, collect?: string[]) {
  return (status: number, body: string) => {
    if (status < 200 || status > 299) {
      tally.non2xx++;
      tally.firstError ??= `HTTP ${status}: ${body.slice(0, 300)}`;
    } else if (body.includes('"errors"')) {
      tally.gqlErrors++;
      tally.firstError ??= body.slice(0, 300);
    } else {
      const m = idPattern.exec(body);
      if (m) {
        tally.ok++;
        collect?.push(m[1]!);
      } else {
        tally.malformed++;
        tally.firstError ??= `unexpected body: ${body.slice(0, 300)}`;
      }
    }
  };
}

/** The parsed answer when it is a 2xx JSON answer without errors that `ok` accepts; null (counted) otherwise. */
export function checkJson(tally: Tally, status: number, body: string, ok: (json: any) => boolean): any {
  if (status < 200 || status > 299) {
    tally.non2xx++;
    tally.firstError ??= `HTTP ${status}: ${body.slice(0, 300)}`;
    return null;
  }
  let json: any;
  try {
    json = JSON.parse(body);
  } catch {
    tally.malformed++;
    tally.firstError ??= `not JSON: ${body.slice(0, 300)}`;
    return null;
  }
  if (json.errors) {
    tally.gqlErrors++;
    tally.firstError ??= body.slice(0, 300);
    return null;
  }
  if (!ok(json)) {
    tally.malformed++;
    tally.firstError ??= `unexpected body: ${body.slice(0, 300)}`;
    return null;
  }
  tally.ok++;
  return json;
}
