import type { HTMLAttributes, Ref } from 'react';
import { cn } from './cn';

type Tag = 'div' | 'section' | 'aside' | 'main' | 'header' | 'nav';

export interface GlassPanelProps extends HTMLAttributes<HTMLElement> {
  as?: Tag;
  ref?: Ref<HTMLElement>;
}

/** A translucent, blurred surface (see `.glass` in index.css for the fallbacks). */
export function GlassPanel({ as: Component = 'div', className, ...rest }: GlassPanelProps) {
  return <Component className={cn('glass rounded-3xl', className)} {...(rest as HTMLAttributes<HTMLDivElement>)} />;
}
