// A checkbox with its label beside it and an optional hint.
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

interface CheckboxProps {
  label: ComponentChildren;
  checked: boolean;
  onChecked(checked: boolean): void;
  hint?: ComponentChildren;
  disabled?: boolean;
}

export function Checkbox({ label, checked, onChecked, hint, disabled }: CheckboxProps) {
  const id = useId();
  return (
    <div class="field checkbox">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        onChange={(event) => onChecked(event.currentTarget.checked)}
        aria-describedby={hint ? `${id}-hint` : undefined}
      />
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}
