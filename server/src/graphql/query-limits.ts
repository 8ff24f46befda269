import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Plugin } from 'graphql-yoga';
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isListType,
  isScalarType,
  isSpecifiedScalarType,
  Kind,
  Lexer,
  parse,
  Source,
  TokenKind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryTooComplex, type QueryLimit } from './errors.js';

/**
 * What one document may ask for. The largest document Relearn's own clients send is GraphiQL's
 * introspection query (81 fields); the dashboard's largest has 38.
 */
export const QUERY_LIMITS = {
  /**
   * Tokens, counted by graphql-js's parser as it reads (its own `maxTokens`: 0.75 ms for 4,800
   * tokens, where graphql-armor's lexer proxy takes 5.4 ms), so a huge document is not parsed whole.
   */
  maxTokens: 5000,
  /**
   * Field selections (and fragment spreads) in the whole document, counted before validation.
   * graphql-js's OverlappingFieldsCanBeMerged rule is quadratic in the fields of one selection
   * set: 4,800 repeats of one field cost ~2 s, 1,000 cost ~70 ms, 200 cost ~1 ms. A token limit
   * alone cannot bound it (a bare field is one token), so this count runs first and a document
   * over it is never validated.
   */
  maxFields: 200,
  maxDepth: 8,
  /**
   * Brackets open at once ({, [ and ( together), checked by a lexer pass before parsing:
   * graphql-js's parser recurses per level, and ~2,400 levels inside the token limit overflow
   * its stack (a RangeError, answered as an internal error). The depth limit above is checked
   * later, on the parsed document.
   */
  maxNesting: 64,
  maxAliases: 20,
  maxDirectives: 20,
  /** Cost units, see `estimateCost`. */
  maxCost: 50_000,
  /** Items assumed for a list field whose size no argument states. */
  defaultListSize: 10,
  /**
   * A refused document's answer waits this long (an idle timer, no work): refusing still costs
   * parsing and, for a batch, its variables (~1-6 ms), so a client that sends them back to back
   * would otherwise take the serving thread from everyone else. Honest clients rarely see it.
   */
  refusalDelayMs: 200,
};

/**
 * The price of one field in cost units, set by the field's `extensions.complexity` (a number
 * or a function of the arguments; default 1). The scale: 1 for a value in memory, 10 for a
 * resolver that reads a row, 100 for an aggregate batched across a request's parents, 5,000
 * for an aggregate over a model's feedback and predictions run per field.
 */
export type FieldCost = number | ((args: Record<string, unknown>) => number);

/**
 * A list field's cost is its item count times (its own price + its selection's): the count is
 * the length of its list argument (predictBatch's `inputs`), else its `limit`, else
 * `defaultListSize`. So list arguments multiply the nested cost.
 */
const estimateCost =
  (defaultListSize: number): ComplexityEstimator =>
  ({ field, args, childComplexity }) => {
    // Introspection (GraphiQL's schema query) is bounded by the field and depth limits alone.
    if (field.name.startsWith('__')) return 0;
    const own = field.extensions?.complexity as FieldCost | undefined;
    const price = typeof own === 'function' ? own(args) : (own ?? 1);
    if (!isListType(getNullableType(field.type))) return price + childComplexity;
    const listArg = Object.values(args).find(Array.isArray) as unknown[] | undefined;
    const limit = typeof args.limit === 'number' ? args.limit : null;
    const items = listArg ? listArg.length : (limit ?? defaultListSize);
    return Math.max(1, items) * (price + childComplexity);
  };

/** The deepest bracket nesting of a document, read by graphql-js's lexer (strings and comments skipped); stops past `stopAt`. */
export function bracketNesting(source: string | Source, stopAt: number, maxTokens: number): number {
  const lexer = new Lexer(typeof source === 'string' ? new Source(source) : source);
  let depth = 0;
  let deepest = 0;
  for (let n = 0; n <= maxTokens; n++) {
    const token = lexer.advance();
    if (token.kind === TokenKind.EOF) break;
    if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
      deepest = Math.max(deepest, ++depth);
      if (deepest > stopAt) break;
    } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) depth--;
  }
  return deepest;
}

/** True when a variable appears anywhere in `node`. */
function usesVariable(node: ASTNode): boolean {
  let found = false;
  visit(node, {
    Variable() {
      found = true;
    },
  });
  return found;
}

/**
 * True when `estimateCost` gives `document` the same cost whatever its variables, so the cost
 * can be computed once per document (graphql-query-complexity walks the whole document and
 * coerces the variables: ~15% of a predict's CPU on the lean path). Variables reach the cost only
 * through arguments, so a document qualifies when none of its variables is a list argument, a
 * `limit`, a custom scalar (it could hold a list), an argument of a field priced by a function,
 * or in a directive (@include/@skip change what is counted).
 */
export function costIgnoresVariables(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let ignores = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Directive(node) {
        if (usesVariable(node)) ignores = false;
      },
      Argument(node) {
        if (!ignores || !usesVariable(node.value)) return;
        const field = typeInfo.getFieldDef();
        const arg = typeInfo.getArgument();
        if (!field || !arg || node.name.value === 'limit' || typeof field.extensions?.complexity === 'function') ignores = false;
        else if (node.value.kind === Kind.VARIABLE) {
          const named = getNamedType(arg.type);
          if (isListType(getNullableType(arg.type)) || (isScalarType(named) && !isSpecifiedScalarType(named))) ignores = false;
        }
      },
    }),
  );
  return ignores;
}

/** Field selections and fragment spreads of a document: a walk of its selection sets only. */
export function countSelections(document: DocumentNode, stopAt = Infinity): number {
  let n = 0;
  const stack: SelectionSetNode[] = [];
  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) stack.push(d.selectionSet);
  }
  while (stack.length && n <= stopAt) {
    for (const s of stack.pop()!.selections) {
      if (s.kind !== Kind.INLINE_FRAGMENT) n++;
      if (s.kind !== Kind.FRAGMENT_SPREAD && s.selectionSet) stack.push(s.selectionSet);
    }
  }
  return n;
}

/**
 * Refuses documents over the limits, each with `extensions.code` QUERY_TOO_COMPLEX and
 * `extensions.limit` naming which (tokens, fields, depth, aliases, directives, cost):
 * tokens while parsing, fields right after parsing (validation never runs for such a
 * document), depth/aliases/directives during validation, cost before execution (it needs the
 * variables: list sizes come from them).
 */
export function useQueryLimits(limits = QUERY_LIMITS): Plugin[] {
  // graphql-armor's refusals read "Syntax Error: …" without a code: its callbacks hand them here.
  const report = (limit: QueryLimit) => (ctx: ValidationContext | null, error: GraphQLError) => {
    ctx?.reportError(queryTooComplex(limit, error.message.replace(/^Syntax Error: /, ''), { max: limits[limitKey[limit]] }));
  };
  const armor = EnvelopArmorPlugin({
    maxTokens: { enabled: false },
    maxDepth: { n: limits.maxDepth, propagateOnRejection: false, onReject: [report('depth')] },
    maxAliases: { n: limits.maxAliases, propagateOnRejection: false, onReject: [report('aliases')] },
    maxDirectives: { n: limits.maxDirectives, propagateOnRejection: false, onReject: [report('directives')] },
    // Structure-only; the cost below knows list sizes and resolver prices.
    costLimit: { enabled: false },
  });

  const tooManyTokens = () => queryTooComplex('tokens', `Query too complex: more than ${limits.maxTokens} tokens.`, { max: limits.maxTokens });
  const documentLimits: Plugin = {
    onParse({ setParseFn }) {
      setParseFn((source, options) => {
        let nesting = 0;
        try {
          nesting = bracketNesting(source, limits.maxNesting, limits.maxTokens);
        } catch {
          // A lexical error: the parser below reports it with its position.
        }
        if (nesting > limits.maxNesting) {
          throw queryTooComplex('depth', `Query too complex: brackets nested more than ${limits.maxNesting} deep.`, { max: limits.maxNesting });
        }
        try {
          return parse(source, { ...options, maxTokens: limits.maxTokens });
        } catch (error) {
          // graphql-js's own refusal ("Document contains more that N tokens") is a syntax error.
          if (error instanceof GraphQLError && / \d+ tokens\b/.test(error.message)) throw tooManyTokens();
          throw error;
        }
      });
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) {
          if (!result.extensions.code) {
            // Yoga codes parse errors of HTTP requests only; websockets get the same code here.
            replaceParseResult(
              new GraphQLError(result.message, { source: result.source, positions: result.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }),
            );
          }
          return;
        }
        if (!result || result instanceof Error) return;
        const found = countSelections(result as DocumentNode, limits.maxFields);
        if (found > limits.maxFields) {
          replaceParseResult(queryTooComplex('fields', `Query too complex: more than ${limits.maxFields} field selections.`, { max: limits.maxFields }));
        }
      };
    },
  };

  const estimators = [estimateCost(limits.defaultListSize)];
  // Per parsed document (yoga's parse cache hands back the same DocumentNode for the same text):
  // whether its cost ignores the variables, and then its cost per operation name.
  const variableFree = new WeakMap<DocumentNode, boolean>();
  const knownCosts = new WeakMap<DocumentNode, Map<string, number>>();
  const costOf = (args: { schema: any; document: DocumentNode; variableValues?: any; operationName?: string | null }) => {
    const operation = args.operationName ?? '';
    const known = knownCosts.get(args.document)?.get(operation);
    if (known !== undefined) return known;
    let cost: number;
    try {
      cost = getComplexity({
        schema: args.schema,
        query: args.document,
        variables: args.variableValues ?? {},
        ...(args.operationName ? { operationName: args.operationName } : {}),
        estimators,
      });
    } catch {
      return 0; // bad variables: execution refuses them with BAD_USER_INPUT (and nothing is remembered)
    }
    let ignores = variableFree.get(args.document);
    if (ignores === undefined) variableFree.set(args.document, (ignores = costIgnoresVariables(args.schema as GraphQLSchema, args.document)));
    // Only costs within the limit: a refused document is computed again (and its variables checked) each time, as before.
    if (ignores && cost <= limits.maxCost) {
      let costs = knownCosts.get(args.document);
      if (!costs) knownCosts.set(args.document, (costs = new Map()));
      // Bounded by the document's own operations: only names it defines reach here without an error.
      if (costs.size < 64) costs.set(operation, cost);
    }
    return cost;
  };
  const refusal = (cost: number) =>
    queryTooComplex('cost', `Query too complex: it would cost ${Math.round(cost)}, over the limit of ${limits.maxCost}.`, {
      max: limits.maxCost,
      cost: Math.round(cost),
    });
  const cost: Plugin = {
    onExecute({ args, setResultAndStopExecution }) {
      const c = costOf(args);
      if (c > limits.maxCost) setResultAndStopExecution({ errors: [refusal(c)] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const c = costOf(args);
      if (c > limits.maxCost) setResultAndStopExecution({ errors: [refusal(c)] });
    },
  };
  const slowRefusals: Plugin = {
    async onResultProcess({ result }) {
      if (limits.refusalDelayMs <= 0 || Array.isArray(result) || !result || Symbol.asyncIterator in result) return;
      if (result.errors?.some((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX')) await sleep(limits.refusalDelayMs);
    },
  };
  return [armor as unknown as Plugin, documentLimits, cost, slowRefusals];
}

const limitKey = {
  tokens: 'maxTokens',
  fields: 'maxFields',
  depth: 'maxDepth',
  aliases: 'maxAliases',
  directives: 'maxDirectives',
  cost: 'maxCost',
} as const satisfies Record<QueryLimit, keyof typeof QUERY_LIMITS>;
