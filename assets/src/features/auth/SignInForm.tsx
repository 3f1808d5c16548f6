import { Button, PasswordField, TextField } from '../../ui';
import { useServices } from '../services';
import { signIn } from './actions';
import { FormError } from './FormError';
import { useAuthForm } from './useAuthForm';
import { validateSignIn } from './validation';

export function SignInForm({ autoFocus = false }: { autoFocus?: boolean }) {
  const services = useServices();
  const form = useAuthForm({
    initial: { username: '', password: '' },
    validate: validateSignIn,
    submit: (v) => signIn(services, v),
    failureTitle: 'Sign-in failed',
  });

  return (
    <form noValidate onSubmit={form.onSubmit} className="flex flex-col gap-4">
      <TextField
        label="Username"
        autoComplete="username"
        autoCapitalize="none"
        autoCorrect="off"
        spellCheck={false}
        autoFocus={autoFocus}
        {...form.field('username')}
      />
      <PasswordField label="Password" autoComplete="current-password" {...form.field('password')} />
      <FormError message={form.formError} />
      <Button type="submit" size="lg" loading={form.pending} className="mt-1 w-full">
        Sign in
      </Button>
    </form>
  );
}
