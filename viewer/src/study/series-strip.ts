// The series of the open study as a column of thumbnails (WADO-RS series thumbnail: the hub
// renders the middle image). Thumbnails are fetched with the user's token and shown from blob:
// URLs, released when the screen is left; a series the hub cannot render shows its modality.
import { number, text, type DicomJson } from '../dicomweb/dicom-json.js';
import type { HubClient } from '../dicomweb/http.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { seriesUrl } from './study-data.js';

export interface SeriesStrip {
  element: HTMLElement;
  select(seriesUid: string): void;
}

export function seriesStrip(client: HubClient, dicomweb: string, studyUid: string, series: DicomJson[], onOpen: (seriesUid: string) => void, scope: Scope): SeriesStrip {
  const items = new Map<string, HTMLElement>();
  const list = el('ul', { className: 'series-strip', attrs: { 'data-testid': 'series-list' } });
  for (const s of series) {
    const uid = text(s, '0020000E') ?? '';
    const image = el('img', { attrs: { alt: '', width: 96, height: 96, hidden: true } });
    const placeholder = el('span', { className: 'thumbnail-placeholder', text: text(s, '00080060') ?? '?' });
    const label = el('span', { className: 'series-label' });
    setText(label, 'seriesLabel', { number: text(s, '00200011') ?? '?', count: number(s, '00201209') ?? 0 });
    const button = el('button', { className: 'series-item', attrs: { 'data-testid': 'series', 'data-series-uid': uid, title: text(s, '0008103E') ?? '' }, on: { click: () => onOpen(uid) } }, [
      el('span', { className: 'thumbnail' }, [image, placeholder]),
      label,
      el('span', { className: 'series-description', text: text(s, '0008103E') ?? '' }),
    ]);
    const item = el('li', {}, [button]);
    items.set(uid, button);
    list.append(item);
    void loadThumbnail(client, `${seriesUrl(dicomweb, studyUid, uid)}/thumbnail?viewport=96,96`, scope).then((url) => {
      if (!url) return;
      image.src = url;
      image.hidden = false;
      placeholder.hidden = true;
    });
  }
  return {
    element: el('nav', { className: 'series-panel', i18nAttrs: { 'aria-label': 'series' } }, [list]),
    select(seriesUid) {
      for (const [uid, button] of items) button.setAttribute('aria-current', uid === seriesUid ? 'true' : 'false');
    },
  };
}

async function loadThumbnail(client: HubClient, url: string, scope: Scope): Promise<string | undefined> {
  try {
    const res = await client.get(url, { accept: 'image/jpeg', timeoutMs: 30_000 });
    const objectUrl = URL.createObjectURL(await res.blob());
    scope.add(() => URL.revokeObjectURL(objectUrl));
    return objectUrl;
  } catch {
    return undefined; // not renderable by the hub (e.g. JPEG 2000): the placeholder stays
  }
}
