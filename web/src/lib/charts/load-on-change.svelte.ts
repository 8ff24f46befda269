/**
 * A chart's reads: at once when the task or range changes (`key`), and again `debounceMs` after
 * the newest metrics push (`tick`), so a burst of pushes costs one read. Call during component set-up.
 */
export function loadOnChange(
  key: () => { model: string; seconds: number },
  tick: () => number,
  load: (model: string, seconds: number) => Promise<void>,
  debounceMs: number,
): void {
  $effect(() => {
    const { model, seconds } = key();
    void load(model, seconds);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  $effect(() => {
    void tick();
    const { model, seconds } = key();
    clearTimeout(timer);
    timer = setTimeout(() => void load(model, seconds), debounceMs);
    return () => clearTimeout(timer);
  });
}
