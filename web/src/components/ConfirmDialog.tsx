// Asks before a destructive action; the action's error is shown in the dialog.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { Dialog } from './Dialog.tsx';
import { ErrorText } from './ErrorText.tsx';

interface ConfirmDialogProps {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  /** Does the action; resolves to an error message, or null when it is done. */
  onConfirm(): Promise<string | null>;
  onClose(): void;
}

export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onClose }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    const failure = await onConfirm().catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
    setBusy(false);
    if (failure) setError(failure);
    else onClose();
  };
  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      <ErrorText message={error} />
      <div class="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void confirm()}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
