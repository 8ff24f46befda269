/**
 * npm run keys -- create --principal checkout --scope PREDICT --scope FEEDBACK | list | revoke ID
 *
 * Talks to a running Relearn's GraphQL API with an admin credential (access/keys-cli.ts).
 */
import { runKeysCli } from '../access/keys-cli.js';

process.exitCode = await runKeysCli(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
