// The text in the viewport's corners: patient and study on top, the image's place in the stack,
// zoom and window below. DOM text over the canvas (not painted into it), so it stays sharp, can
// be selected and read by screen readers, and never changes the image's pixels.
import cornerstone from 'cornerstone-core';
import { formatDate, personName, text, type DicomJson } from '../dicomweb/dicom-json.js';
import { language, onLanguageChange, t } from '../i18n/i18n.js';
import { el } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import type { StackViewport } from './stack-viewport.js';

export interface OverlayContext {
  study: DicomJson;
  series?: DicomJson;
}

export function viewportOverlay(viewport: StackViewport, context: () => OverlayContext, scope: Scope): HTMLElement {
  const line = (testid?: string) => el('div', { attrs: testid ? { 'data-testid': testid } : {} });
  const patient = line('overlay-patient');
  const patientId = line();
  const patientMore = line();
  const studyDescription = line();
  const studyDate = line();
  const seriesLine = line();
  const slice = line('overlay-slice');
  const zoom = line('overlay-zoom');
  const window = line('overlay-window');
  const overlay = el('div', { className: 'overlay', attrs: { 'aria-live': 'polite' } }, [
    el('div', { className: 'corner top-left' }, [patient, patientId, patientMore]),
    el('div', { className: 'corner top-right' }, [studyDescription, studyDate, seriesLine]),
    el('div', { className: 'corner bottom-left' }, [slice, zoom]),
    el('div', { className: 'corner bottom-right' }, [window]),
  ]);

  const update = () => {
    const { study, series } = context();
    patient.textContent = personName(study, '00100010', language() === 'zh-CN');
    patientId.textContent = text(study, '00100020') ?? '';
    patientMore.textContent = [text(study, '00100040'), formatDate(text(study, '00100030'))].filter(Boolean).join(' ');
    studyDescription.textContent = text(study, '00081030') ?? '';
    studyDate.textContent = [formatDate(text(study, '00080020')), text(study, '00080061')].filter(Boolean).join(' ');
    seriesLine.textContent = series ? [t('overlaySeries', { number: text(series, '00200011') ?? '?' }), text(series, '0008103E')].filter(Boolean).join(' ') : '';
    slice.textContent = viewport.length ? t('overlaySlice', { n: viewport.index + 1, total: viewport.length }) : '';
    slice.dataset.n = String(viewport.index + 1);
    slice.dataset.total = String(viewport.length);
    const vp = viewport.viewport();
    zoom.textContent = vp ? t('overlayZoom', { zoom: Math.round(vp.scale * 100) }) : '';
    zoom.dataset.scale = vp ? String(vp.scale) : '';
    window.textContent = vp && viewport.image && !viewport.image.color ? t('overlayWindow', { w: Math.round(vp.voi.windowWidth), c: Math.round(vp.voi.windowCenter) }) : '';
    window.dataset.width = vp ? String(vp.voi.windowWidth) : '';
    window.dataset.center = vp ? String(vp.voi.windowCenter) : '';
  };
  viewport.onChange(update);
  viewport.element.addEventListener(cornerstone.EVENTS.IMAGE_RENDERED, update);
  scope.add(onLanguageChange(update));
  update();
  return overlay;
}
