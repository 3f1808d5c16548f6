import { m } from 'framer-motion';
import { useState } from 'react';
import { serverSelectors } from '../../stores';
import { GlassPanel, Logo, SegmentedTabs, tabId, tabPanelId, type TabItem } from '../../ui';
import { panelIn, swapIn } from '../../ui/motion';
import { SignInForm } from './SignInForm';
import { SignUpForm } from './SignUpForm';
import { inviteCodeFromUrl } from './inviteLink';
import { useAppState } from '../services';

type Mode = 'sign-in' | 'sign-up';

const TABS: ReadonlyArray<TabItem<Mode>> = [
  { id: 'sign-in', label: 'Sign in' },
  { id: 'sign-up', label: 'Create account' },
];

/**
 * One card for both ways in; sign-up is offered only when the server allows it. An invite
 * link (`/invite/CODE`) opens sign-up with the code filled in; on a server with no account
 * yet, sign-up comes first and needs no code (that account becomes the administrator).
 */
export function AuthScreen({ inviteCode = inviteCodeFromUrl() }: { inviteCode?: string | null }) {
  const serverName = useAppState(serverSelectors.name);
  const version = useAppState(serverSelectors.version);
  const canSignUp = useAppState(serverSelectors.canSignUp);
  const needsInvite = useAppState(serverSelectors.needsInvite);
  const setupRequired = useAppState(serverSelectors.setupRequired);
  const [picked, setChosen] = useState<Mode | null>(null);
  const chosen: Mode = picked ?? (inviteCode || setupRequired ? 'sign-up' : 'sign-in');
  // Focus the first field when the screen opens, not when switching tabs (focus stays on the tab).
  const [switched, setSwitched] = useState(false);
  const mode: Mode = canSignUp ? chosen : 'sign-in';

  return (
    <m.main
      className="flex min-h-dvh items-center justify-center px-4 py-10 sm:py-16"
      variants={panelIn}
      initial="hidden"
      animate="shown"
      exit="gone"
    >
      <GlassPanel as="section" aria-labelledby="auth-title" className="w-full max-w-[26rem] p-6 sm:p-8">
        <header className="mb-6 flex flex-col items-center text-center">
          <Logo className="mb-4 size-12" />
          <h1 id="auth-title" className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">
            {mode === 'sign-in' ? `Welcome to ${serverName}` : `Join ${serverName}`}
          </h1>
          <p className="mt-1.5 text-sm text-slate-600 dark:text-slate-400">
            {mode === 'sign-in' ? 'Sign in to pick up where you left off.' : 'Create an account to start chatting.'}
          </p>
          {setupRequired && mode === 'sign-up' && (
            <p data-testid="setup-hint" className="mt-3 rounded-xl bg-sky-500/10 px-3 py-2 text-sm text-sky-800 dark:text-sky-200">
              No account exists yet: this first one will administer the server, and needs no invite code.
            </p>
          )}
        </header>

        {canSignUp && (
          <SegmentedTabs<Mode>
            label="Sign in or create an account"
            idPrefix="auth"
            tabs={TABS}
            value={mode}
            onChange={(next) => {
              setChosen(next);
              setSwitched(true);
            }}
            className="mb-6"
          />
        )}

        <div
          role={canSignUp ? 'tabpanel' : undefined}
          id={tabPanelId('auth', mode)}
          aria-labelledby={canSignUp ? tabId('auth', mode) : undefined}
        >
          {/* The new form slides in; the old one leaves at once, so two forms never coexist. */}
          <m.div key={mode} variants={swapIn} initial={switched ? 'hidden' : false} animate="shown">
            {mode === 'sign-in' ? (
              <SignInForm autoFocus={!switched} />
            ) : (
              <SignUpForm needsInvite={needsInvite} autoFocus={!switched} inviteCode={inviteCode ?? ''} />
            )}
          </m.div>
        </div>

        <footer className="mt-6 text-center text-xs text-slate-500 dark:text-slate-400">
          {!canSignUp && <p className="mb-2">New accounts are closed on this server. Ask its admin for one.</p>}
          <p>Nexus{version ? ` v${version}` : ''}</p>
        </footer>
      </GlassPanel>
    </m.main>
  );
}
