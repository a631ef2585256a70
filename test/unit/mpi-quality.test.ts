// Matching quality of the MPI on a generated population with known ground truth: candidate pairs
// come from the blocking keys (an in-memory stand-in for the indexed text[] column), every
// candidate pair is compared, and the automatic links are scored pairwise against the truth.
// Recall counts every true pair, including those the blocking never proposed.
// MPI_QUALITY_DEBUG=1 prints the missed and wrong links with their reasons.
import { describe, expect, it } from '@jest/globals';
import { blockingKeys, compareRecords, MATCH_THRESHOLDS, type MatchResult } from '../../server/src/federation/mpi/match.js';
import { personFromPatient, type PersonRecord } from '../../server/src/federation/mpi/person.js';
import { generatePopulation, type PopulationRecord } from '../helpers/mpi-population.js';

// Goals: precision ≥ 99.5 %, recall ≥ 97 %. Measured on this seed: precision 99.97 %, recall 99.00 %,
// every true pair blocked together. Ten other seeds gave precision 99.78–99.97 % and recall
// 98.16–99.35 %: the wrong links are namesakes sharing a birth date, the misses mostly a romanised
// name one keystroke off held for review by the twin rule. The floors sit just under this seed's
// measurement so that a regression fails.
const PRECISION_FLOOR = 0.998;
const RECALL_FLOOR = 0.988;
const BLOCKING_RECALL_FLOOR = 0.999;
const SEED = 20_250_611;
const PEOPLE = 2000;

interface PairOutcome {
  i: number;
  j: number;
  result: MatchResult;
}

function candidatePairs(persons: PersonRecord[]): Set<number> {
  const index = new Map<string, number[]>();
  persons.forEach((person, i) => {
    for (const key of blockingKeys(person)) {
      const bucket = index.get(key);
      if (bucket) bucket.push(i);
      else index.set(key, [i]);
    }
  });
  const pairs = new Set<number>();
  for (const bucket of index.values()) {
    for (let x = 0; x < bucket.length; x++) {
      for (let y = x + 1; y < bucket.length; y++) pairs.add(bucket[x] * persons.length + bucket[y]);
    }
  }
  return pairs;
}

function truePairCount(records: PopulationRecord[]): number {
  const perPerson = new Map<string, number>();
  for (const r of records) perPerson.set(r.personId, (perPerson.get(r.personId) ?? 0) + 1);
  let pairs = 0;
  for (const n of perPerson.values()) pairs += (n * (n - 1)) / 2;
  return pairs;
}

const autoLinked = (r: MatchResult): boolean => r.grade === 'certain' || r.grade === 'probable';

describe('MPI matching quality on a synthetic district population', () => {
  it(`auto-links with precision ≥ ${PRECISION_FLOOR * 100} % and recall ≥ ${RECALL_FLOOR * 100} %`, () => {
    const { records } = generatePopulation({ people: PEOPLE, seed: SEED });
    expect(records.length).toBeGreaterThanOrEqual(4000);
    const persons = records.map((r) => personFromPatient(r.patient));

    const outcomes: PairOutcome[] = [];
    for (const code of candidatePairs(persons)) {
      const i = Math.floor(code / persons.length);
      const j = code % persons.length;
      outcomes.push({ i, j, result: compareRecords(persons[i], persons[j]) });
    }

    const same = (o: PairOutcome): boolean => records[o.i].personId === records[o.j].personId;
    const truePairs = truePairCount(records);
    const blockedTruePairs = outcomes.filter(same).length;
    const links = outcomes.filter((o) => autoLinked(o.result));
    const correctLinks = links.filter(same).length;
    const deterministicLinks = links.filter((o) => o.result.deterministic).length;
    const review = outcomes.filter((o) => o.result.grade === 'possible');
    const trueInReview = review.filter(same).length;
    const precision = links.length === 0 ? 1 : correctLinks / links.length;
    const recall = correctLinks / truePairs;

    console.log(
      `MPI quality: ${records.length} records of ${PEOPLE} people, ${outcomes.length} candidate pairs, ` +
        `${truePairs} true pairs (${blockedTruePairs} blocked together); ` +
        `${links.length} auto-links (${deterministicLinks} by resident ID), ${links.length - correctLinks} wrong; ` +
        `precision ${(precision * 100).toFixed(2)} %, recall ${(recall * 100).toFixed(2)} %; ` +
        `review band [${MATCH_THRESHOLDS.review}, ${MATCH_THRESHOLDS.autoLink}): ${review.length} pairs, ${trueInReview} of them true`,
    );

    if (process.env.MPI_QUALITY_DEBUG === '1') {
      const show = (label: string, list: PairOutcome[]): void => {
        for (const o of list.slice(0, 40)) {
          console.log(`${label} ${o.result.score} ${records[o.i].source}/${records[o.j].source}\n  ${JSON.stringify(persons[o.i])}\n  ${JSON.stringify(persons[o.j])}\n  ${o.result.reasons.join('; ')}`);
        }
      };
      show('WRONG LINK', links.filter((o) => !same(o)));
      show('MISSED', outcomes.filter((o) => same(o) && !autoLinked(o.result)).sort((a, b) => a.result.score - b.result.score));
      show('FALSE IN REVIEW', review.filter((o) => !same(o)).sort((a, b) => b.result.score - a.result.score));
    }

    expect(blockedTruePairs / truePairs).toBeGreaterThanOrEqual(BLOCKING_RECALL_FLOOR);
    expect(precision).toBeGreaterThanOrEqual(PRECISION_FLOOR);
    expect(recall).toBeGreaterThanOrEqual(RECALL_FLOOR);
  });
});
