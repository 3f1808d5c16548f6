/**
 * Shared motion. The app is wrapped in <MotionConfig reducedMotion="user">, so with
 * prefers-reduced-motion these keep their fades but drop movement and scale.
 */
import type { Transition, Variants } from 'framer-motion';

export const spring: Transition = { type: 'spring', stiffness: 420, damping: 34, mass: 0.8 };
export const ease: Transition = { duration: 0.22, ease: [0.22, 1, 0.36, 1] };

/** A panel arriving: fade in, rise a little, settle from 98 % scale. */
export const panelIn: Variants = {
  hidden: { opacity: 0, y: 14, scale: 0.98 },
  shown: { opacity: 1, y: 0, scale: 1, transition: { ...spring, opacity: ease } },
  gone: { opacity: 0, y: -8, scale: 0.99, transition: { duration: 0.16 } },
};

/** Content swapped in place (form tabs). */
export const swapIn: Variants = {
  hidden: { opacity: 0, x: 12 },
  shown: { opacity: 1, x: 0, transition: ease },
};
