import type { TaskRecord } from '../tasks/task-types.js';
import { el, links, text, type Link, type WireElement } from './wire/wire-node.js';

/**
 * `<Task Type="Task" Href>`: Links (Delete always; Related once the work produced something), TaskId,
 * State, Operation, Result (seed 001, seed 003, em-api.md "tasks").
 */
export function taskElement(base: string, t: TaskRecord): WireElement {
  const self = `${base}/tasks/${t.taskId}`;
  const l: Link[] = [{ rel: 'Delete', type: 'Task', href: self }];
  // A direct download's task points at the file with Rel="Download" (em-api.md "tasks"); everything else is Related.
  // post_vmrestorepoints_id_mountpoints_id_filepath_actionrestore.md: Rel and Href only.
  if (t.related?.type === 'Download') l.push({ rel: 'Download', href: `${base}${t.related.path}` });
  else if (t.related) l.push({ rel: 'Related', type: t.related.type, href: `${base}${t.related.path}`, name: t.related.name });
  const result =
    t.state === 'Finished'
      ? el('Result', [['Success', t.success === true]], t.message ? [text('Message', t.message)] : [])
      : undefined;
  return el('Task', [['Type', 'Task'], ['Href', self]], [links(l), text('TaskId', t.taskId), text('State', t.state), text('Operation', t.operation), result]);
}
