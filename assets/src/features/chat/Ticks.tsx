import { AlertCircle, Check, CheckCheck, Clock3 } from 'lucide-react';
import type { TickState } from '../../stores';
import { cn } from '../../ui';

const LABEL: Record<TickState, string> = {
  pending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

/** The state of an own message: clock → ✓ → ✓✓ → blue ✓✓ (or a warning when it failed). */
export function Ticks({ state, className }: { state: TickState; className?: string }) {
  const Icon = state === 'pending' ? Clock3 : state === 'sent' ? Check : state === 'failed' ? AlertCircle : CheckCheck;
  return (
    <span role="img" aria-label={LABEL[state]} title={LABEL[state]} data-state={state} className={cn('inline-flex', className)}>
      <Icon
        aria-hidden
        strokeWidth={2.4}
        className={cn(
          'size-[15px]',
          state === 'read' && 'text-cyan-300 drop-shadow-[0_0_1px_rgb(8_47_73/0.6)]',
          state === 'failed' && 'text-rose-200',
          state === 'pending' && 'size-[13px]',
        )}
      />
    </span>
  );
}
