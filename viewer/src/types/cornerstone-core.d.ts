// The part of cornerstone-core 2.x's API this viewer uses (the package ships no types).
declare module 'cornerstone-core' {
  export interface Point {
    x: number;
    y: number;
  }

  export interface Voi {
    windowWidth: number;
    windowCenter: number;
  }

  export interface Viewport {
    scale: number;
    translation: Point;
    voi: Voi;
    invert: boolean;
    pixelReplication: boolean;
    rotation: number;
    hflip: boolean;
    vflip: boolean;
  }

  /** A Cornerstone Image Object (what an image loader resolves to). */
  export interface Image {
    imageId: string;
    minPixelValue: number;
    maxPixelValue: number;
    slope: number;
    intercept: number;
    windowCenter: number;
    windowWidth: number;
    getPixelData: () => ArrayLike<number>;
    rows: number;
    columns: number;
    height: number;
    width: number;
    color: boolean;
    rgba?: boolean;
    columnPixelSpacing?: number;
    rowPixelSpacing?: number;
    invert: boolean;
    sizeInBytes: number;
  }

  export interface ImageLoadObject {
    promise: Promise<Image>;
    cancelFn?: () => void;
  }

  export type ImageLoader = (imageId: string, options?: unknown) => ImageLoadObject;

  export interface EnabledElement {
    element: HTMLElement;
    canvas: HTMLCanvasElement;
    image?: Image;
    viewport?: Viewport;
  }

  export interface ImageRenderedDetail {
    element: HTMLElement;
    viewport: Viewport;
    image: Image;
    enabledElement: EnabledElement;
    canvasContext: CanvasRenderingContext2D;
  }

  export const EVENTS: { IMAGE_RENDERED: string; NEW_IMAGE: string };

  export function enable(element: HTMLElement, options?: Record<string, unknown>): void;
  export function disable(element: HTMLElement): void;
  export function displayImage(element: HTMLElement, image: Image, viewport?: Partial<Viewport>): void;
  export function loadAndCacheImage(imageId: string, options?: unknown): Promise<Image>;
  export function registerImageLoader(scheme: string, loader: ImageLoader): void;
  export function getViewport(element: HTMLElement): Viewport | undefined;
  export function setViewport(element: HTMLElement, viewport: Partial<Viewport>): void;
  export function reset(element: HTMLElement): void;
  export function resize(element: HTMLElement, forceFitToWindow?: boolean): void;
  export function fitToWindow(element: HTMLElement): void;
  export function updateImage(element: HTMLElement, invalidated?: boolean): void;
  export function pixelToCanvas(element: HTMLElement, point: Point): Point;
  export function canvasToPixel(element: HTMLElement, point: Point): Point;
  export function pageToPixel(element: HTMLElement, pageX: number, pageY: number): Point;
  export function getEnabledElement(element: HTMLElement): EnabledElement;

  export const imageCache: {
    setMaximumSizeBytes(bytes: number): void;
    purgeCache(): void;
    getImageLoadObject(imageId: string): ImageLoadObject | undefined;
  };

  const cornerstone: {
    EVENTS: typeof EVENTS;
    enable: typeof enable;
    disable: typeof disable;
    displayImage: typeof displayImage;
    loadAndCacheImage: typeof loadAndCacheImage;
    registerImageLoader: typeof registerImageLoader;
    getViewport: typeof getViewport;
    setViewport: typeof setViewport;
    reset: typeof reset;
    resize: typeof resize;
    fitToWindow: typeof fitToWindow;
    updateImage: typeof updateImage;
    pixelToCanvas: typeof pixelToCanvas;
    canvasToPixel: typeof canvasToPixel;
    pageToPixel: typeof pageToPixel;
    getEnabledElement: typeof getEnabledElement;
    imageCache: typeof imageCache;
  };
  export default cornerstone;
}
