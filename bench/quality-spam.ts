// SpamAssassin before/after figures for `npm run bench:quality` (bench/quality.ts): train on the
// earlier groups, stream the later ones with truthful feedback (each message learned online as
// its answer arrives), and measure accuracy on a held-out slice of the later groups before and
// after the stream, for each text configuration beside the plain tokenizer.
import { NaiveBayesModel, type NaiveBayesSpec } from '../server/src/ml/naive-bayes.js';
import { tokenizerFor, type MailTokenizerOptions, type TermFrequency, type TokenizerName } from '../server/src/ml/text.js';
import { BOOTSTRAP_GROUPS, STREAM_GROUPS, loadSpamAssassin } from '../server/src/tasks/data/spam-assassin.js';

export interface TextConfiguration {
  name: string;
  tokenizer: TokenizerName;
  tokenizerOptions?: MailTokenizerOptions & { termFrequency?: TermFrequency };
  text: 'multinomial' | 'complement';
  tfidf: boolean;
}

export const TEXT_CONFIGURATIONS: TextConfiguration[] = [
  { name: 'words, multinomial (plain)', tokenizer: 'words', text: 'multinomial', tfidf: false },
  { name: 'words, complement', tokenizer: 'words', text: 'complement', tfidf: false },
  { name: 'mail without bigrams, multinomial', tokenizer: 'mail', tokenizerOptions: { bigrams: false }, text: 'multinomial', tfidf: false },
  { name: 'mail, multinomial', tokenizer: 'mail', text: 'multinomial', tfidf: false },
  { name: 'mail, multinomial, TF-IDF', tokenizer: 'mail', text: 'multinomial', tfidf: true },
  { name: 'mail, complement', tokenizer: 'mail', text: 'complement', tfidf: false },
  { name: 'mail, complement, TF-IDF', tokenizer: 'mail', text: 'complement', tfidf: true },
  { name: 'mail, binary, multinomial', tokenizer: 'mail', tokenizerOptions: { termFrequency: 'binary' }, text: 'multinomial', tfidf: false },
  { name: 'mail, binary, multinomial, TF-IDF', tokenizer: 'mail', tokenizerOptions: { termFrequency: 'binary' }, text: 'multinomial', tfidf: true },
  { name: 'mail, log tf, multinomial, TF-IDF', tokenizer: 'mail', tokenizerOptions: { termFrequency: 'log' }, text: 'multinomial', tfidf: true },
  {
    name: 'mail no bigrams, binary, TF-IDF',
    tokenizer: 'mail',
    tokenizerOptions: { bigrams: false, termFrequency: 'binary' },
    text: 'multinomial',
    tfidf: true,
  },
  { name: 'mail, binary, complement, TF-IDF', tokenizer: 'mail', tokenizerOptions: { termFrequency: 'binary' }, text: 'complement', tfidf: true },
];

export interface SpamFigures {
  configuration: string;
  before: number;
  after: number;
  heldOut: number;
  streamed: number;
  vocabulary: number;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Every fourth later message (shuffled, seed 1) is held out; the rest is the stream. */
export async function spamAssassinFigures(configurations = TEXT_CONFIGURATIONS, tokenBuckets = 1 << 20): Promise<SpamFigures[]> {
  const earlier = await loadSpamAssassin([...BOOTSTRAP_GROUPS]);
  const later = shuffled(await loadSpamAssassin([...STREAM_GROUPS]), 1);
  const heldOut = later.filter((_, i) => i % 4 === 0);
  const stream = later.filter((_, i) => i % 4 !== 0);
  const out: SpamFigures[] = [];
  for (const config of configurations) {
    const tokenize = tokenizerFor(config.tokenizer, config.tokenizerOptions);
    const spec: NaiveBayesSpec = {
      labels: ['ham', 'spam'],
      gaussian: [],
      categorical: [],
      multinomial: true,
      tokenBuckets,
      text: config.text,
      tfidf: config.tfidf,
    };
    const model = NaiveBayesModel.create(spec);
    for (const row of earlier) model.learn({ gaussian: [], categorical: [], tokens: tokenize(row.input.text) }, row.label);
    const held = heldOut.map((r) => ({ x: { gaussian: [], categorical: [], tokens: tokenize(r.input.text) }, label: r.label }));
    const accuracy = () => held.filter((r) => model.predict(r.x).label === r.label).length / held.length;
    const before = accuracy();
    for (const row of stream) model.learn({ gaussian: [], categorical: [], tokens: tokenize(row.input.text) }, row.label);
    out.push({ configuration: config.name, before, after: accuracy(), heldOut: held.length, streamed: stream.length, vocabulary: model.vocabularySize });
  }
  return out;
}
