// Every check an assessment runs, in the order observations list them.
import type { Check } from '../check.js';
import { adminRoles, authenticatedCalls, sanctionedModels } from './access.js';
import { chainIntegrity, ledgerCompleteness, recordContent } from './audit.js';
import { authenticatorRotation } from './authenticators.js';
import { budgetCoverage } from './budgets.js';
import { consumerOwnership, discoveryReview, resourceReview } from './inventory.js';
import { assessmentCadence } from './monitoring.js';
import { externalServices, transmissionProtection } from './services.js';

export const CHECKS: readonly Check[] = [
  authenticatedCalls,
  sanctionedModels,
  adminRoles,
  ledgerCompleteness,
  recordContent,
  chainIntegrity,
  consumerOwnership,
  resourceReview,
  discoveryReview,
  externalServices,
  transmissionProtection,
  authenticatorRotation,
  budgetCoverage,
  assessmentCadence,
];
