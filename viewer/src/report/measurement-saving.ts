// Saving the session's measurements to the study, and showing the saved ones again: "Save to
// study" sends the measurements not saved yet; opening a series draws the measurements saved on
// its images (by anyone); deleting a saved measurement of one's own withdraws it at the hub.
import type { AppContext } from '../app-context.js';
import { SessionExpired } from '../auth/session.js';
import { onLanguageChange, t } from '../i18n/i18n.js';
import type { MeasurementList } from '../reading/measurements.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { fromApiMeasurement, locatorFor, MeasurementApi, toApiMeasurement } from './saved-measurements.js';

export interface MeasurementSaving {
  element: HTMLElement;
  /** Call before the list is cleared for another series: the cleared ones are not withdrawn. */
  forgetSeries(): void;
  /** Draws the measurements saved on these images (the open series). */
  loadFor(imageIds: readonly string[]): Promise<void>;
}

export function measurementSaving(app: AppContext, studyUid: string, measurements: MeasurementList, scope: Scope): MeasurementSaving {
  const api = new MeasurementApi(app.client, app.hub.imaging);
  const me = app.session.fhirUser();
  /** List id → saved Observation id, and who saved it. */
  const saved = new Map<number, { id: string; reader?: string }>();
  let loading = false;
  const status = el('p', { className: 'hint', attrs: { 'data-testid': 'measurements-saved-status', role: 'status' } });
  const problem = el('p', { className: 'error', attrs: { role: 'alert', hidden: true } });
  const save = el('button', { i18n: 'measurementsSave', attrs: { 'data-testid': 'measurements-save' }, on: { click: () => void saveNew() } });

  const unsaved = () => measurements.all().filter((m) => !saved.has(m.id));
  const render = () => {
    const open = unsaved().length;
    save.disabled = open === 0;
    status.dataset.saved = String(saved.size);
    status.dataset.unsaved = String(open);
    setText(status, 'measurementsSavedCount', { saved: saved.size, unsaved: open });
  };
  const fail = (err: unknown) => {
    if (err instanceof SessionExpired) return app.signInAgain();
    problem.hidden = false;
    problem.textContent = t('measurementsSaveFailed', { reason: (err as Error).message });
  };

  const saveNew = async () => {
    problem.hidden = true;
    // records() lists the measurements in the order of all().
    const records = measurements.records();
    const sendable = measurements.all().flatMap((m, i) => {
      const api = saved.has(m.id) ? undefined : toApiMeasurement(records[i]);
      return api ? [{ listId: m.id, api }] : [];
    });
    if (!sendable.length) return;
    save.disabled = true;
    try {
      const result = await api.save(studyUid, sendable.map((p) => p.api));
      sendable.forEach((p, i) => saved.set(p.listId, { id: result[i].id!, reader: me }));
    } catch (err) {
      fail(err);
    }
    render();
  };

  measurements.onChange(() => {
    if (loading) return;
    // A saved measurement of one's own deleted from the list is withdrawn at the hub.
    const present = new Set(measurements.all().map((m) => m.id));
    for (const [listId, entry] of saved) {
      if (present.has(listId)) continue;
      saved.delete(listId);
      if (entry.reader === me) void api.withdraw(entry.id).catch(fail);
    }
    render();
  });
  scope.add(onLanguageChange(render));
  render();

  return {
    element: el('div', { className: 'measurement-saving' }, [save, status, problem]),
    forgetSeries: () => saved.clear(),
    loadFor: async (imageIds) => {
      try {
        const found = await api.ofStudy(studyUid);
        const locate = locatorFor(imageIds);
        loading = true;
        for (const item of found) {
          const drawn = fromApiMeasurement(item, locate);
          if (drawn) saved.set(measurements.add(drawn).id, { id: item.id!, reader: item.reader });
        }
      } catch (err) {
        fail(err);
      } finally {
        loading = false;
        render();
      }
    },
  };
}
