import { Button, PasswordField, TextField } from '../../ui';
import { signUp } from './actions';
import { FormError } from './FormError';
import { useAuthForm } from './useAuthForm';
import {
  DISPLAY_NAME_MAX,
  PASSWORD_MIN,
  USERNAME_MAX,
  USERNAME_MIN,
  validateSignUp,
  type SignUpValues,
} from './validation';
import { useAppState, useServices } from '../services';

type Field = keyof SignUpValues;

const fieldFor = (code: string): Field | null => {
  switch (code) {
    case 'username_taken':
      return 'username';
    case 'invalid_invite':
      return 'inviteCode';
    default:
      return null;
  }
};

export function SignUpForm({
  needsInvite,
  autoFocus = false,
  inviteCode = '',
}: {
  needsInvite: boolean;
  autoFocus?: boolean;
  /** From an invite link: filled in. */
  inviteCode?: string;
}) {
  const services = useServices();
  const registrationChanged = useAppState((s) => s.serverRegistrationChanged);
  const form = useAuthForm<Field>({
    initial: { displayName: '', username: '', password: '', inviteCode },
    validate: (v) => validateSignUp(v, needsInvite),
    submit: (v) => signUp(services, v, needsInvite),
    fieldFor,
    onServerError: (code) => {
      if (code === 'registration_closed') registrationChanged('closed');
    },
    failureTitle: 'Could not create the account',
    transform: { username: (raw) => raw.toLowerCase() },
  });

  return (
    <form noValidate onSubmit={form.onSubmit} className="flex flex-col gap-4">
      <TextField
        label="Display name"
        autoComplete="nickname"
        maxLength={DISPLAY_NAME_MAX * 2}
        hint="The name others see. You can change it later."
        autoFocus={autoFocus}
        {...form.field('displayName')}
      />
      <TextField
        label="Username"
        autoComplete="username"
        autoCapitalize="none"
        autoCorrect="off"
        spellCheck={false}
        hint={`${USERNAME_MIN}–${USERNAME_MAX} characters: a–z, 0–9, “_” and “.”`}
        {...form.field('username')}
      />
      <PasswordField
        label="Password"
        autoComplete="new-password"
        hint={`At least ${PASSWORD_MIN} characters. A few unrelated words work well.`}
        {...form.field('password')}
      />
      {needsInvite && (
        <TextField
          label="Invite code"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          hint={inviteCode ? 'Filled in from your invite link.' : 'This server is invite-only. Ask its admin for a code.'}
          {...form.field('inviteCode')}
        />
      )}
      <FormError message={form.formError} />
      <Button type="submit" size="lg" loading={form.pending} className="mt-1 w-full">
        Create account
      </Button>
    </form>
  );
}
