import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal confirmation on the browser's own `<dialog>`, in the page only while open (so two views' dialogs never
 * share ids): focus moves into it, Escape cancels, and focus goes back to what opened it. `children` say exactly
 * what will happen (which VM, which path).
 */
export function ConfirmDialog(props: { open: boolean; title: string; confirmLabel: string; danger?: boolean; onConfirm: () => void; onCancel: () => void; children: ComponentChildren }) {
  if (!props.open) return null;
  return <OpenDialog {...props} />;
}

function OpenDialog(props: { title: string; confirmLabel: string; danger?: boolean; onConfirm: () => void; onCancel: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    ref.current?.showModal();
    return () => opener?.focus();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={(e) => { e.preventDefault(); props.onCancel(); }}>
      <h2 id="confirm-title">{props.title}</h2>
      <div class="confirm-body">{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>Cancel</button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} id="confirm-ok" onClick={props.onConfirm} autofocus>{props.confirmLabel}</button>
      </div>
    </dialog>
  );
}
