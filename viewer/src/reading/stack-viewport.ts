// One cornerstone viewport showing a stack of frames. Only the latest requested slice is ever
// displayed (a slow slice arriving after the user scrolled on is dropped); a slice that cannot
// be shown gets a message over the viewport, and no load may keep it waiting past a time limit.
// The element's data-state (loading | ready | error), data-index and data-rendered-image-id say
// what is on screen — for assistive technology and for the browser tests.
import cornerstone, { type Image, type ImageRenderedDetail, type Viewport } from 'cornerstone-core';
import { SessionExpired } from '../auth/session.js';
import { t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { Undisplayable } from '../imaging/errors.js';
import { el, setText } from '../ui/dom.js';
import { Prefetcher } from './prefetch.js';

// Longer than any single request's own limit (metadata 30 s + frame 60 s + decode 30 s).
const DISPLAY_TIMEOUT_MS = 150_000;

type Listener = () => void;

export class StackViewport {
  readonly element: HTMLDivElement;
  private readonly message: HTMLDivElement;
  private readonly messageTitle: HTMLElement;
  private readonly messageText: HTMLElement;
  private imageIds: string[] = [];
  private position = 0;
  private request = 0;
  private current: Image | undefined;
  private failure: Error | undefined;
  private renders = 0;
  private readonly prefetcher = new Prefetcher();
  private readonly listeners = new Set<Listener>();
  private readonly resizeObserver: ResizeObserver;

  constructor(private readonly onSessionExpired: () => void) {
    this.messageTitle = el('strong', { i18n: 'cannotDisplay' });
    this.messageText = el('span', { attrs: { 'data-testid': 'viewport-message-text' } });
    this.message = el('div', { className: 'viewport-message', attrs: { role: 'alert', 'data-testid': 'viewport-message', hidden: true } }, [this.messageTitle, this.messageText]);
    this.element = el('div', { className: 'viewport', attrs: { 'data-testid': 'viewport', 'data-state': 'empty', tabindex: 0 } });
    this.resizeObserver = new ResizeObserver(() => {
      if (this.current) cornerstone.resize(this.element);
    });
  }

  /** Call once the element is in the document (cornerstone sizes its canvas from it). */
  attach(): void {
    cornerstone.enable(this.element);
    this.element.append(this.message);
    this.element.addEventListener(cornerstone.EVENTS.IMAGE_RENDERED, (event) => {
      this.element.dataset.renderedImageId = (event as CustomEvent<ImageRenderedDetail>).detail.image.imageId;
      this.element.dataset.renders = String(++this.renders);
    });
    this.resizeObserver.observe(this.element);
  }

  dispose(): void {
    this.prefetcher.stop();
    this.resizeObserver.disconnect();
    this.request++;
    cornerstone.disable(this.element);
  }

  onChange(listener: Listener): void {
    this.listeners.add(listener);
  }

  setStack(imageIds: string[]): void {
    this.imageIds = imageIds;
    this.current = undefined;
    this.prefetcher.stop();
    if (imageIds.length) void this.show(0);
    else this.showMessage('noImagesInSeries');
  }

  get length(): number {
    return this.imageIds.length;
  }

  get index(): number {
    return this.position;
  }

  get image(): Image | undefined {
    return this.current;
  }

  /** True when the slice at the current position is drawn on screen, or has failed and says so. */
  settled(): boolean {
    const { state, renderedImageId, imageId } = this.element.dataset;
    return state === 'error' || (state === 'ready' && renderedImageId === imageId);
  }

  imageIdAt(index: number): string | undefined {
    return this.imageIds[index];
  }

  scrollBy(step: number): void {
    if (this.imageIds.length) void this.show(Math.max(0, Math.min(this.imageIds.length - 1, this.position + step)));
  }

  async show(index: number): Promise<void> {
    const imageId = this.imageIds[index];
    if (imageId === undefined) return;
    const request = ++this.request;
    this.position = index;
    this.element.dataset.index = String(index);
    this.element.dataset.state = 'loading';
    this.notify();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const image = await Promise.race([
        cornerstone.loadAndCacheImage(imageId),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Undisplayable('timeout')), DISPLAY_TIMEOUT_MS);
        }),
      ]);
      if (request !== this.request) return;
      this.display(image);
      this.failure = undefined;
      this.message.hidden = true;
      this.element.dataset.state = 'ready';
    } catch (err) {
      if (request !== this.request) return;
      if (err instanceof SessionExpired) return this.onSessionExpired();
      this.failure = err as Error;
      this.renderFailure();
      this.element.dataset.state = 'error';
    } finally {
      clearTimeout(timer);
    }
    this.element.dataset.imageId = imageId;
    this.notify();
    this.prefetcher.around(this.imageIds, index);
  }

  viewport(): Viewport | undefined {
    return this.current ? cornerstone.getViewport(this.element) : undefined;
  }

  setViewport(change: Partial<Viewport>): void {
    const viewport = this.viewport();
    if (!viewport) return;
    cornerstone.setViewport(this.element, { ...viewport, ...change });
    this.notify();
  }

  reset(): void {
    if (!this.current) return;
    cornerstone.reset(this.element);
    this.notify();
  }

  redraw(): void {
    if (this.current) cornerstone.updateImage(this.element);
  }

  /** After a language change: the message, if one is shown. */
  retranslate(): void {
    if (this.failure) this.renderFailure();
  }

  private display(image: Image): void {
    const previous = this.current;
    const viewport = previous ? cornerstone.getViewport(this.element) : undefined;
    // Keep zoom, pan and window while scrolling through alike images; start afresh otherwise.
    const alike = previous && viewport && previous.color === image.color && previous.width === image.width && previous.height === image.height;
    this.current = image;
    if (alike) cornerstone.displayImage(this.element, image, viewport);
    else cornerstone.displayImage(this.element, image);
  }

  private showMessage(key: MessageKey): void {
    this.message.hidden = false;
    setText(this.messageText, key);
    this.element.dataset.state = 'error';
  }

  private renderFailure(): void {
    const err = this.failure;
    this.message.hidden = false;
    this.messageTitle.textContent = t('cannotDisplay');
    delete this.messageText.dataset.i18n;
    if (err instanceof Undisplayable) {
      const key = `reason${err.reason[0].toUpperCase()}${err.reason.slice(1)}` as MessageKey;
      this.messageText.textContent = t(key, err.detail);
      this.element.dataset.reason = err.reason;
    } else {
      this.messageText.textContent = t('reasonDecodeFailed', { detail: err?.message ?? '' });
      this.element.dataset.reason = 'decodeFailed';
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
