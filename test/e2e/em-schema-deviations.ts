// The deviations from EM's (9.5-era) schema that the 13.0.1 pages require, each listed once with its page
// (issue #10: "where they disagree, the seeds win, then the 13.0.1 pages, then the XSD"). Each one undoes exactly
// its deviation in a parsed document, so that the document then validates strictly: xmllint stops checking an
// element at its first error, so accepting an error message instead would hide every later error of that element.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/** A node of fast-xml-parser's ordered tree: `{ Tag: children, ':@': attributes }` or `{ '#text': … }`. */
type XmlNode = Record<string, any>;

const OPTIONS = { preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false } as const;
const parser = new XMLParser(OPTIONS);
const builder = new XMLBuilder({ ...OPTIONS, suppressEmptyNode: true });

const tagOf = (n: XmlNode) => Object.keys(n).find((k) => k !== ':@')!;
const isElement = (n: XmlNode) => !('#text' in n) && !tagOf(n).startsWith('?');

/** Every element named `name` anywhere below `nodes`. */
function* elementsNamed(nodes: XmlNode[], name: string): Generator<XmlNode> {
  for (const n of nodes) {
    if (!isElement(n)) continue;
    if (tagOf(n) === name) yield n;
    yield* elementsNamed(n[tagOf(n)], name);
  }
}

const childrenOf = (n: XmlNode): XmlNode[] => n[tagOf(n)];
const indexOfChild = (n: XmlNode, name: string) => childrenOf(n).findIndex((c) => isElement(c) && tagOf(c) === name);
const leaf = (name: string, value: string): XmlNode => ({ [name]: [{ '#text': value }] });
const placeholderRef = (): XmlNode => ({ Ref: [], ':@': { '@_Type': 'Reference', '@_Href': 'https://deviation/', '@_Name': 'deviation', '@_UID': 'urn:veeam:Deviation:0' } });

function removeChild(n: XmlNode, name: string): number {
  const i = indexOfChild(n, name);
  if (i < 0) return 0;
  childrenOf(n).splice(i, 1);
  return 1;
}

/** Inserts `node` right after the child `after` (or first when there is none). */
function insertAfter(n: XmlNode, after: string, node: XmlNode): number {
  childrenOf(n).splice(indexOfChild(n, after) + 1, 0, node);
  return 1;
}

export interface Deviation {
  page: string;
  what: string;
  /** Undoes the deviation in a document; returns how often it did (0: not in this document). 'skip': the document is 13.x only. */
  undo(doc: XmlNode[]): number | 'skip';
}

export const DEVIATIONS: Deviation[] = [
  {
    page: 'constructing_hierarchyobjreftype.md',
    what: 'hierarchy object URNs (`urn:VMware:Vm:<root>.vm-<id>`, `urn:vCloud:Vm:<root>.urn:vcloud:vm:<id>`) hold dots and colons the UrnType pattern refuses',
    undo(doc) {
      let n = 0;
      for (const name of ['HierarchyObjRef', 'ObjectRef', 'RestoredObjRef', 'DatastoreRef']) {
        for (const e of elementsNamed(doc, name)) {
          const t = childrenOf(e)[0];
          const m = /^urn:(VMware|HyperV|vCloud):(\w+):[^:]+\./.exec(t?.['#text'] ?? '');
          if (m) (t['#text'] = `urn:${m[1]}:${m[2]}:deviation`), n++;
        }
      }
      return n;
    },
  },
  {
    page: 'post_vmrestorepoints_id_actionrestore.md',
    what: 'a VmRestoreSpec may carry KeepOriginalVM',
    undo: (doc) => [...elementsNamed(doc, 'VmRestoreSpec')].reduce((n, e) => n + removeChild(e, 'KeepOriginalVM'), 0),
  },
  {
    page: 'post_vmrestorepoints_id_mountpoints.md',
    what: 'the mount request body VmRestorePointMountSpec (OsKind) is not declared by the older schema',
    undo: (doc) => ([...elementsNamed(doc, 'VmRestorePointMountSpec')].length > 0 ? 'skip' : 0),
  },
  {
    page: 'get_repositories_id.md',
    what: 'a Repository entity has Kind after FreeSpace',
    undo: (doc) => [...elementsNamed(doc, 'Repository')].reduce((n, e) => n + removeChild(e, 'Kind'), 0),
  },
  {
    page: 'get_backups_id.md',
    what: 'a Backup entity has UID, Name, Platform, BackupType and no Ref',
    undo: (doc) => [...elementsNamed(doc, 'Backup')].reduce((n, e) => n + removeChild(e, 'BackupType') + (indexOfChild(e, 'Ref') < 0 ? insertAfter(e, 'Links', placeholderRef()) : 0), 0),
  },
  {
    page: 'get_restorepoints_id.md',
    what: 'a RestorePoint entity has UID, Name, BackupDateUTC and no Ref',
    undo: (doc) => [...elementsNamed(doc, 'RestorePoint')].reduce((n, e) => n + (indexOfChild(e, 'Ref') < 0 ? insertAfter(e, 'Links', placeholderRef()) : 0), 0),
  },
  {
    page: 'get_backupsessions_id.md',
    what: 'a BackupJobSession has no FailureMessage: its parameters end with Progress, IsRetry',
    undo: (doc) => [...elementsNamed(doc, 'BackupJobSession')].reduce((n, e) => n + (indexOfChild(e, 'FailureMessage') < 0 ? insertAfter(e, 'Progress', leaf('FailureMessage', '')) : 0), 0),
  },
  {
    page: 'get_restoresessions_id.md',
    what: 'a RestoreSession starts with JobType (no JobUid, JobName) and has no FailureMessage unless it failed',
    undo(doc) {
      let n = 0;
      for (const e of elementsNamed(doc, 'RestoreSession')) {
        if (indexOfChild(e, 'JobUid') < 0) {
          insertAfter(e, 'Links', leaf('JobName', ''));
          n += insertAfter(e, 'Links', leaf('JobUid', 'urn:veeam:Job:deviation'));
        }
        if (indexOfChild(e, 'FailureMessage') < 0) n += insertAfter(e, 'Progress', leaf('FailureMessage', ''));
      }
      return n;
    },
  },
  {
    page: 'get_backupfiles_id.md',
    what: 'backup files (BackupFile, BackupFiles) are a resource the older schema does not know',
    undo: (doc) => ([...elementsNamed(doc, 'BackupFile')].length + [...elementsNamed(doc, 'BackupFiles')].length > 0 ? 'skip' : 0),
  },
  {
    page: 'lookup_query.md',
    what: 'a HierarchyItem has no Href (HierarchyItemType, a ResourceType, requires one)',
    undo: (doc) => [...elementsNamed(doc, 'HierarchyItem')].reduce((n, e) => (e[':@']?.['@_Href'] ? n : ((e[':@'] = { ...e[':@'], '@_Href': 'https://deviation/' }), n + 1)), 0),
  },
  {
    page: 'get_externalrepositories.md',
    what: 'external repositories (ExternalRepositories) are a resource the older schema does not know',
    undo: (doc) => ([...elementsNamed(doc, 'ExternalRepositories')].length > 0 ? 'skip' : 0),
  },
  {
    page: 'resource_types.md',
    what: 'CatalogVm is a key resource the query service answers (issue #10), but the older EntitiesType has no CatalogVms: the list is validated as the document',
    undo(doc) {
      let n = 0;
      for (const [i, root] of doc.entries()) {
        if (!isElement(root) || tagOf(root) !== 'QueryResult') continue;
        const entities = childrenOf(root).find((c) => isElement(c) && tagOf(c) === 'Entities');
        const vms = entities && childrenOf(entities).find((c) => isElement(c) && tagOf(c) === 'CatalogVms');
        if (!vms) continue;
        doc[i] = { ...vms, ':@': { ...root[':@'], ...vms[':@'] } };
        n++;
      }
      return n;
    },
  },
];

/** The document with every listed deviation undone, or undefined when it is 13.x only; counts each deviation's use. */
export function undoDeviations(xml: string, used: Map<string, number>): string | undefined {
  const doc = parser.parse(xml) as XmlNode[];
  for (const d of DEVIATIONS) {
    const n = d.undo(doc);
    if (n === 'skip') {
      used.set(d.page, (used.get(d.page) ?? 0) + 1);
      return undefined;
    }
    if (n > 0) used.set(d.page, (used.get(d.page) ?? 0) + n);
  }
  return builder.build(doc);
}
