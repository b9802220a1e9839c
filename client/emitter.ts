/** A minimal typed event emitter: browsers and Node share no other one. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as (event: never) => void);
    return () => this.off(type, listener);
  }

  off<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): void {
    this.listeners.get(type)?.delete(listener as (event: never) => void);
  }

  protected emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) {
      try {
        (listener as (event: Events[K]) => void)(event);
      } catch (err) {
        // One throwing listener must not stop the others or the socket's handler.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
