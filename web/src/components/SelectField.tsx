// A labelled <select> with its error.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

interface SelectFieldProps {
  label: string;
  value: string;
  onValue(value: string): void;
  error?: string | null;
  children: ComponentChildren;
}

export function SelectField({ label, value, onValue, error, children }: SelectFieldProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(event) => onValue(event.currentTarget.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        {children}
      </select>
      {error && (
        <p class="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
