// The interventions a sample runs, in the order their hooks are called. A new intervention is one
// file (a factory returning an Intervention, see types.ts), its test, an entry here and its fields
// in the Playground form.
import type { GuideSettings } from '../../domain/guide.ts';
import { budgetForcing } from './budget.ts';
import { strategyInjection } from './strategy.ts';
import type { Intervention, InterventionFactory } from './types.ts';
import { stepVerification } from './verify.ts';

export const SAMPLE_INTERVENTIONS: readonly InterventionFactory[] = [strategyInjection, budgetForcing, stepVerification];

/** The interventions switched on in `settings`, created fresh for one sample. */
export function createInterventions(settings: GuideSettings): Intervention[] {
  return SAMPLE_INTERVENTIONS.map((f) => f(settings)).filter((p): p is Intervention => p !== null);
}
