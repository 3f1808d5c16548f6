/**
 * Pointer and wheel gestures of the lightbox's stage, turned into views (zoom.ts): the wheel
 * zooms about the pointer, one pointer pans a zoomed image (or, at 1×, swipes to the
 * previous / next image), two pointers pinch, a double-click or double-tap toggles zoom.
 * The stage sets `touch-action: none`, so the browser leaves every touch to these handlers.
 */
import { useEffect, useRef, type MouseEvent as ReactMouseEvent, type PointerEvent as ReactPointerEvent, type RefObject } from 'react';
import { panBy, pinch, toggleZoom, wheelFactor, zoomAt, type Point, type Size, type View } from './zoom';

/** A horizontal drag this long at 1× goes to the neighbouring image. */
const SWIPE_PX = 60;
const DOUBLE_TAP_MS = 300;
const DOUBLE_TAP_PX = 30;

interface Options {
  stage: RefObject<HTMLElement | null>;
  view: View;
  setView(v: View): void;
  /** The image's fitted size at 1×, and the stage's size. */
  image: Size;
  stageSize: Size;
  onSwipe(direction: -1 | 1): void;
}

export function useZoomGestures({ stage, view, setView, image, stageSize, onSwipe }: Options) {
  const latest = useRef({ view, image, stageSize, setView, onSwipe });
  latest.current = { view, image, stageSize, setView, onSwipe };
  const pointers = useRef(new Map<number, Point>());
  const pinchStart = useRef<{ view: View; from: [Point, Point] } | null>(null);
  const swipeFrom = useRef<Point | null>(null);
  const lastTap = useRef<{ at: number; p: Point } | null>(null);

  const local = (e: { clientX: number; clientY: number }): Point => {
    const r = stage.current?.getBoundingClientRect();
    const x = e.clientX - (r?.left ?? 0) - (r?.width ?? 0) / 2;
    const y = e.clientY - (r?.top ?? 0) - (r?.height ?? 0) / 2;
    // An event without coordinates (synthetic) counts as the stage's centre.
    return Number.isFinite(x) && Number.isFinite(y) ? { x, y } : { x: 0, y: 0 };
  };

  // React's wheel listener is passive; zooming must stop the page from scrolling.
  useEffect(() => {
    const el = stage.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const { view: v, image: img, stageSize: st, setView: set } = latest.current;
      set(zoomAt(v, wheelFactor(e.deltaY, e.deltaMode), local(e), img, st));
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [stage]);

  const two = (): [Point, Point] => {
    const [a, b] = [...pointers.current.values()];
    return [a!, b!];
  };

  return {
    onPointerDown(e: ReactPointerEvent<HTMLElement>) {
      if (e.pointerType === 'mouse' && e.button !== 0) return;
      e.currentTarget.setPointerCapture?.(e.pointerId);
      const p = local(e);
      pointers.current.set(e.pointerId, p);
      if (pointers.current.size === 2) {
        pinchStart.current = { view: latest.current.view, from: two() };
        swipeFrom.current = null;
      } else if (pointers.current.size === 1) {
        swipeFrom.current = latest.current.view.scale <= 1 ? p : null;
      }
    },
    onPointerMove(e: ReactPointerEvent<HTMLElement>) {
      const prev = pointers.current.get(e.pointerId);
      if (!prev) return;
      const p = local(e);
      pointers.current.set(e.pointerId, p);
      const { view: v, image: img, stageSize: st, setView: set } = latest.current;
      if (pointers.current.size >= 2 && pinchStart.current) {
        set(pinch(pinchStart.current.view, pinchStart.current.from, two(), img, st));
      } else if (pointers.current.size === 1 && v.scale > 1) {
        set(panBy(v, p.x - prev.x, p.y - prev.y, img, st));
      }
    },
    onPointerUp(e: ReactPointerEvent<HTMLElement>) {
      const p = local(e);
      const had = pointers.current.delete(e.pointerId);
      if (pointers.current.size < 2) pinchStart.current = null;
      if (!had || pointers.current.size > 0) return;
      const from = swipeFrom.current;
      swipeFrom.current = null;
      if (from && Math.abs(p.x - from.x) > SWIPE_PX && Math.abs(p.x - from.x) > 2 * Math.abs(p.y - from.y)) {
        latest.current.onSwipe(p.x < from.x ? 1 : -1);
        return;
      }
      // A double-tap (touch, pen); the mouse has dblclick.
      if (e.pointerType !== 'mouse') {
        const now = e.timeStamp;
        const t = lastTap.current;
        if (t && now - t.at < DOUBLE_TAP_MS && Math.hypot(p.x - t.p.x, p.y - t.p.y) < DOUBLE_TAP_PX) {
          lastTap.current = null;
          const { view: v, image: img, stageSize: st, setView: set } = latest.current;
          set(toggleZoom(v, p, img, st));
        } else {
          lastTap.current = { at: now, p };
        }
      }
    },
    onPointerCancel(e: ReactPointerEvent<HTMLElement>) {
      pointers.current.delete(e.pointerId);
      pinchStart.current = null;
      swipeFrom.current = null;
    },
    onDoubleClick(e: ReactMouseEvent<HTMLElement>) {
      const { view: v, image: img, stageSize: st, setView: set } = latest.current;
      set(toggleZoom(v, local(e), img, st));
    },
  };
}
