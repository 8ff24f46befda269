import { describe, expect, it } from 'vitest';
import { NaiveBayesModel } from '../ml/naive-bayes.js';
import { DEFAULT_TEXT_ENCODING } from '../ml/naive-bayes-spec.js';
import { TaskRegistry } from './task-registry.js';
import { Task } from './task.js';

const MAIL = 'Subject: WIN $1,000 now\n\nVisit http://prizes.example.com/claim or write to claims@prizes.example.com';

describe('a version is scored with the text encoding it was trained with', () => {
  it('records the tokenizer in the artifact, and a task feeds an older version its own tokens', async () => {
    const spam = (await TaskRegistry.load()).get('spam')!;
    expect(spam.modelSpec.tokens).toEqual({ tokenizer: 'mail', bigrams: true, termFrequency: 'binary' });

    // A version trained before spam moved to the mail tokenizer: plain words, raw counts.
    const before = new Task(spam.definition, DEFAULT_TEXT_ENCODING);
    const trained = NaiveBayesModel.create(before.modelSpec);
    trained.learn(before.encode({ text: MAIL }), 'spam');
    trained.learn(before.encode({ text: 'lunch at noon tomorrow?' }), 'ham');
    const loaded = NaiveBayesModel.fromJSON(JSON.parse(JSON.stringify(trained.toJSON())));

    const fed = spam.forModel(loaded.spec);
    expect(fed).not.toBe(spam);
    expect(fed.encode({ text: MAIL })).toEqual(before.encode({ text: MAIL }));
    expect(spam.encode({ text: MAIL })).not.toEqual(before.encode({ text: MAIL }));
    expect(loaded.predictProba(fed.encode({ text: MAIL }))).toEqual(trained.predictProba(before.encode({ text: MAIL })));

    // A version trained with today's encoding is fed by the task itself.
    const current = NaiveBayesModel.fromJSON(JSON.parse(JSON.stringify(NaiveBayesModel.create(spam.modelSpec).toJSON())));
    expect(spam.forModel(current.spec)).toBe(spam);
  });

  it('reads an artifact without a recorded encoding (before format 3) as plain words with raw counts', async () => {
    const spam = (await TaskRegistry.load()).get('spam')!;
    const artifact = NaiveBayesModel.create(new Task(spam.definition, DEFAULT_TEXT_ENCODING).modelSpec).toJSON() as unknown as {
      spec: Record<string, unknown>;
    };
    delete artifact.spec.tokens;
    expect(NaiveBayesModel.fromJSON(artifact).spec.tokens).toEqual(DEFAULT_TEXT_ENCODING);
  });

  it('refuses to merge statistics counted with different encodings', async () => {
    const spam = (await TaskRegistry.load()).get('spam')!;
    const a = NaiveBayesModel.create(spam.modelSpec);
    const b = NaiveBayesModel.create(new Task(spam.definition, DEFAULT_TEXT_ENCODING).modelSpec);
    expect(() => a.merge(b)).toThrow();
  });
});
