// The series of the open study as a column of thumbnails (WADO-RS series thumbnail: the hub
// renders the middle image). Thumbnails are fetched with the screen's client (the user's token,
// or a share link's access code) and shown from blob:
// URLs, released when the screen is left; a series the hub cannot render shows its modality.
// They are asked for only once `notBefore` settles (the reading screen passes "the first image
// is loaded"): rendering one costs the hub CPU that would otherwise delay that image's own
// metadata and frame requests (measured by `npm run bench:viewer`, docs/PERFORMANCE.md).
import { number, text, type DicomJson } from '../dicomweb/dicom-json.js';
import type { HttpClient } from '../dicomweb/http.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { seriesUrl } from './study-data.js';

export interface SeriesStrip {
  element: HTMLElement;
  select(seriesUid: string): void;
}

export function seriesStrip(
  client: HttpClient,
  dicomweb: string,
  studyUid: string,
  series: DicomJson[],
  onOpen: (seriesUid: string) => void,
  scope: Scope,
  notBefore: Promise<unknown> = Promise.resolve(),
): SeriesStrip {
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
    void notBefore.then(() => loadThumbnail(client, `${seriesUrl(dicomweb, studyUid, uid)}/thumbnail?viewport=96,96`, scope)).then((url) => {
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

async function loadThumbnail(client: HttpClient, url: string, scope: Scope): Promise<string | undefined> {
  try {
    const res = await client.get(url, { accept: 'image/jpeg', timeoutMs: 30_000 });
    const objectUrl = URL.createObjectURL(await res.blob());
    scope.add(() => URL.revokeObjectURL(objectUrl));
    return objectUrl;
  } catch {
    return undefined; // not renderable by the hub (e.g. JPEG 2000): the placeholder stays
  }
}
