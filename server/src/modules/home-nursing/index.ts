// Home nursing ordered online ("Internet + nursing", DOMAIN.md NU-02..NU-08): the catalogue of
// low-risk service items (ActivityDefinition, kept by administrators), ordering
// ($order-home-nursing), the provider's assessment before the first service ($assess), dispatching
// a qualified nurse ($dispatch), the visit with check-in/out and the one-tap alarm to the duty desk
// ($check-in, $check-out, $alarm, $resolve-alarm), the rating ($rate) and the whole chain
// ($trace); and a write rule keeping the chain out of plain writes. docs/HOME-NURSING.md
// describes the API.
import type { Resource } from '@medplum/fhirtypes';
import { Forbidden } from '../../fhir/errors.js';
import type { ModuleOperation, WriteRule } from '../../fhir/module-operations.js';
import { assessOperation } from './assess.js';
import { isCatalogueItem, isChainResource } from './codes.js';
import { completeOrderOperation } from './complete-order.js';
import { dispatchOperation } from './dispatch.js';
import type { HomeNursingDeps } from './home-nursing-deps.js';
import { orderOperation } from './order.js';
import { rateOperation, traceOperation } from './rate-and-trace.js';
import { visitOperations } from './visit.js';

export { DutyDesk, type HomeNursingDeps } from './home-nursing-deps.js';
export { attachDutyDeskSockets, DUTY_DESK_SOCKET_PATH, type DutyDeskSocketDeps } from './duty-desk-socket.js';

export function homeNursingOperations(deps: HomeNursingDeps): ModuleOperation[] {
  return [orderOperation(deps), assessOperation(deps), dispatchOperation(deps), ...visitOperations(deps), rateOperation(deps), traceOperation(deps), completeOrderOperation(deps)];
}

/** The order chain changes only through the operations (NU-07: every step recorded); the catalogue (NU-05) is the administrators'. */
export function homeNursingWriteRules(): WriteRule[] {
  return [
    (_kind, { previous, next, actor }) => {
      if (isChainResource(previous) || isChainResource(next)) {
        throw new Forbidden('NU-07: home-nursing orders, their Tasks and records change only through the home-nursing operations ($order-home-nursing, $assess, $dispatch, $check-in, ...), not by plain writes');
      }
      const catalogue = (r: Resource | undefined) => isCatalogueItem(r);
      if ((catalogue(previous) || catalogue(next)) && actor?.role && actor.role !== 'admin') {
        throw new Forbidden('NU-05: the home-nursing catalogue (ActivityDefinition) is kept by administrators');
      }
    },
  ];
}

export { providerRelationships } from './access.js';
