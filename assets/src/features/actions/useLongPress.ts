import { useRef, type PointerEvent } from 'react';

export const LONG_PRESS_MS = 450;
const MOVE_PX = 10;

/**
 * A long press by touch (or pen): held still for 450 ms. The mouse has the hover menu, so
 * it is left alone; a scroll (movement) or lifting the finger early cancels.
 */
export function useLongPress(onLongPress: () => void) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const start = useRef<{ x: number; y: number } | null>(null);
  const fired = useRef(false);
  const cancel = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    start.current = null;
  };
  return {
    onPointerDown(e: PointerEvent) {
      if (e.pointerType === 'mouse') return;
      fired.current = false;
      start.current = { x: e.clientX, y: e.clientY };
      timer.current = setTimeout(() => {
        fired.current = true;
        cancel();
        onLongPress();
      }, LONG_PRESS_MS);
    },
    onPointerMove(e: PointerEvent) {
      const s = start.current;
      if (s && Math.hypot(e.clientX - s.x, e.clientY - s.y) > MOVE_PX) cancel();
    },
    onPointerUp: cancel,
    onPointerCancel: cancel,
    /** The browser's own long-press menu would cover ours. */
    onContextMenu(e: { preventDefault(): void; nativeEvent: Event }) {
      if (fired.current || (e.nativeEvent as globalThis.PointerEvent).pointerType === 'touch') e.preventDefault();
    },
  };
}
