// The fixed subset the tiny-world model card reports and a test re-measures (scripts/tiny-world-card.ts).
export const CARD_N = 100;
export const CARD_SEED = 2026;
