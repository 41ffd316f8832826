import type { RunSql } from '../../src/core/foundation/queryable.js';

/** One node of an `EXPLAIN (FORMAT JSON)` plan, the fields the tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Subplan Name'?: string;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/**
 * A runner that explains each statement a store hands it (`analyze`: runs it too, for actual
 * row counts) and answers no rows; the root of every plan lands in `plans`.
 *
 * @example
 * const e = explainingRunner(sqlRunner(db));
 * await store.deleteDeliveredBatch(e.run, args);
 * planNodes(e.plans[0]!).some((n) => n['Node Type'] === 'Seq Scan');
 */
export function explainingRunner(
  run: RunSql,
  options: { analyze?: boolean } = {},
): { run: RunSql; plans: PlanNode[] } {
  const plans: PlanNode[] = [];
  const format = options.analyze ? '(analyze, format json)' : '(format json)';
  return {
    plans,
    run: async <Row>(text: string, values?: readonly unknown[]) => {
      const rows = await run<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `explain ${format} ${text}`,
        values,
      );
      for (const row of rows) plans.push(row['QUERY PLAN'][0]!.Plan);
      return [] as Row[];
    },
  };
}

/**
 * Every node of a plan, depth first; a node `keep` refuses is left out with everything below it.
 *
 * @example
 * planNodes(plan, (n) => !n['Subplan Name']?.startsWith('SubPlan'))
 */
export function planNodes(root: PlanNode, keep: (node: PlanNode) => boolean = () => true): PlanNode[] {
  if (!keep(root)) return [];
  return [root, ...(root.Plans ?? []).flatMap((child) => planNodes(child, keep))];
}
