import { useState, type ChangeEvent, type FormEvent } from 'react';
import { toast } from 'sonner';
import { describeError, isApiError } from '../../api';
import type { FieldErrors } from './validation';

interface Options<K extends string> {
  initial: Record<K, string>;
  validate(values: Record<K, string>): FieldErrors<K>;
  submit(values: Record<K, string>): Promise<void>;
  /** Which field a server error code belongs to (e.g. username_taken → username), if any. */
  fieldFor?(code: string): K | null;
  /** Called with every server error code, e.g. to learn that registration closed. */
  onServerError?(code: string): void;
  /** Toast title when the server refuses. */
  failureTitle: string;
  /** Rewrites some field values as they are typed (e.g. lower-casing a username). */
  transform?: Partial<Record<K, (raw: string) => string>>;
}

/**
 * Form state for the auth screens. A field shows its error once it was left non-empty, or
 * after a submit attempt, and then updates live. Server errors go to their field when they
 * have one, otherwise to the form, and always to a toast too.
 */
export function useAuthForm<K extends string>(options: Options<K>) {
  const { initial, validate, submit, fieldFor, onServerError, failureTitle, transform } = options;
  const [values, setValues] = useState(initial);
  const [blurred, setBlurred] = useState<Partial<Record<K, boolean>>>({});
  const [attempted, setAttempted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors<K>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const clientErrors = validate(values);
  const errorOf = (k: K): string | null => {
    const server = serverErrors[k];
    if (server) return server;
    const shown = attempted || (blurred[k] && values[k] !== '');
    return shown ? (clientErrors[k] ?? null) : null;
  };

  const field = (k: K) => ({
    name: k,
    value: values[k],
    error: errorOf(k),
    onChange: (e: ChangeEvent<HTMLInputElement>) => {
      const raw = e.target.value;
      const next = transform?.[k]?.(raw) ?? raw;
      setValues((v) => ({ ...v, [k]: next }));
      setServerErrors((s) => (s[k] ? { ...s, [k]: undefined } : s));
      setFormError(null);
    },
    onBlur: () => setBlurred((b) => (b[k] ? b : { ...b, [k]: true })),
  });

  const focusField = (form: HTMLFormElement, names: ReadonlyArray<string>) => {
    const target = Array.from(form.elements).find(
      (el): el is HTMLInputElement => el instanceof HTMLInputElement && names.includes(el.name),
    );
    target?.focus();
  };

  const onSubmit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (pending) return;
    const form = e.currentTarget;
    setAttempted(true);
    setFormError(null);
    const invalid = Object.keys(clientErrors);
    if (invalid.length > 0) {
      focusField(form, invalid);
      return;
    }
    setPending(true);
    try {
      await submit(values);
    } catch (err) {
      const code = isApiError(err) ? err.code : 'unknown';
      const message = describeError(err);
      toast.error(failureTitle, { description: message });
      onServerError?.(code);
      const k = fieldFor?.(code) ?? null;
      if (k) {
        setServerErrors((s) => ({ ...s, [k]: message }));
        focusField(form, [k]);
      } else {
        setFormError(message);
      }
    } finally {
      setPending(false);
    }
  };

  return { values, field, onSubmit, pending, formError };
}
