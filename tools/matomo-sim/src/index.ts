export { startMatomoSim, type MatomoSim, type MatomoSimOptions } from './matomo-sim';
export {
  FAULT_KINDS,
  REQUEST_FAULT_KINDS,
  SUB_REQUEST_FAULT_KINDS,
  AUTH_ERROR_MESSAGE,
  BLOCKED_MESSAGE,
  SUB_ERROR_MESSAGE,
  type FaultKind,
  type FaultInput,
} from './faults';
export type { SimStats, RequestRecord } from './request-stats';
export type { DayTotals, SummaryInput, SiteInput } from './sim-data';
export type { SimVisit, SimVisitInput } from './sim-visit';
export { CITIES } from './synthetic-visits';
