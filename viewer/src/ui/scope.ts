// Cleanup for a screen: listeners on shared things (language, window, document) and object URLs
// are registered here and released together when the screen is left.
export class Scope {
  private readonly cleanups: (() => void)[] = [];

  add(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  listen<K extends keyof DocumentEventMap>(target: Document, type: K, listener: (event: DocumentEventMap[K]) => void): void;
  listen<K extends keyof WindowEventMap>(target: Window, type: K, listener: (event: WindowEventMap[K]) => void): void;
  listen(target: EventTarget, type: string, listener: (event: never) => void): void {
    target.addEventListener(type, listener as EventListener);
    this.add(() => target.removeEventListener(type, listener as EventListener));
  }

  dispose(): void {
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
  }
}
