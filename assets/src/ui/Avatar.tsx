import { cn } from './cn';
import { initialsOf } from './initials';

const palettes = [
  'from-indigo-400 to-violet-500',
  'from-sky-400 to-indigo-500',
  'from-teal-400 to-cyan-500',
  'from-emerald-400 to-teal-500',
  'from-amber-400 to-orange-500',
  'from-rose-400 to-pink-500',
  'from-fuchsia-400 to-purple-500',
];

/** A stable palette per person: the same seed (user id) always gets the same colours. */
function paletteFor(seed: string): string {
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) >>> 0;
  return palettes[h % palettes.length] ?? palettes[0]!;
}

const sizes = { sm: 'size-8 text-xs', md: 'size-10 text-sm', lg: 'size-14 text-lg' };

interface AvatarProps {
  name: string;
  /** Colour seed; defaults to the name. */
  seed?: string;
  size?: keyof typeof sizes;
  className?: string;
}

/** Initials on a gradient. Decorative: place the name as text beside it. */
export function Avatar({ name, seed, size = 'md', className }: AvatarProps) {
  return (
    <span
      aria-hidden="true"
      className={cn(
        'inline-grid shrink-0 select-none place-items-center rounded-full bg-gradient-to-br font-semibold text-white',
        'shadow-sm ring-2 ring-white/70 dark:ring-white/10',
        paletteFor(seed ?? name),
        sizes[size],
        className,
      )}
    >
      {initialsOf(name) || '?'}
    </span>
  );
}
