/** What a listing of a mount's folder was sent as, kept so the same listing asked for again is sent as it is. */
export interface ListingRecorder {
  /** One more piece of the body, in order. */
  add(piece: Buffer): void;
  /** The body is whole: keep it (unless it outgrew the bound). Never called when sending stopped half way. */
  complete(): void;
}

/** One mount's share of RenderedListings (OpenMount.renderedListings). */
export interface MountListings {
  get(key: string): readonly Buffer[] | undefined;
  record(key: string): ListingRecorder;
}

interface Kept {
  mountId: string;
  pieces: Buffer[];
  bytes: number;
}

export const DEFAULT_RENDERED_LISTING_BYTES = 64 * 1024 * 1024;

/**
 * Folder listings of the open mounts as sent, least recently used dropped first, so a folder listed again (a client
 * going back up, a page reloaded) costs neither the reads nor the rendering (issue #11 goal 3: < 50 ms again). A
 * mount's restore point never changes, so a kept listing is never stale; the key says everything else the bytes
 * depend on (path, query, format, hrefs). Bounded by bytes over all mounts of the process; a listing larger than a
 * quarter of the bound is never kept; a mount's listings go when it ends (drop).
 */
export class RenderedListings {
  private readonly kept = new Map<string, Kept>();
  /** The mounts handed out by forMount and not dropped yet; a listing that completes after its mount's drop is not kept. */
  private readonly open = new Map<string, { ended: boolean }>();
  private total = 0;
  /** Listings sent again from here so far. */
  hits = 0;

  constructor(readonly maxBytes = DEFAULT_RENDERED_LISTING_BYTES) {}

  /** Bytes kept now, over all mounts. */
  get bytes(): number {
    return this.total;
  }

  /** Listings kept now, over all mounts. */
  get size(): number {
    return this.kept.size;
  }

  /** The listings of one mount (by its row id). */
  forMount(mountId: string): MountListings {
    let mount = this.open.get(mountId);
    if (!mount) this.open.set(mountId, (mount = { ended: false }));
    const handle = mount;
    return {
      get: (key) => this.get(mountId, key),
      record: (key) => this.record(mountId, key, handle),
    };
  }

  /** Forgets every listing of a mount: it ended (a listing of it still being sent is not kept either). */
  drop(mountId: string): void {
    const mount = this.open.get(mountId);
    if (mount) mount.ended = true;
    this.open.delete(mountId);
    for (const [k, v] of this.kept) if (v.mountId === mountId) this.remove(k, v);
  }

  private get(mountId: string, key: string): readonly Buffer[] | undefined {
    const k = `${mountId}\n${key}`;
    const hit = this.kept.get(k);
    if (!hit) return undefined;
    this.hits++;
    this.kept.delete(k);
    this.kept.set(k, hit); // most recently used last
    return hit.pieces;
  }

  private record(mountId: string, key: string, mount: { ended: boolean }): ListingRecorder {
    const limit = this.maxBytes / 4;
    let pieces: Buffer[] | undefined = [];
    let bytes = 0;
    return {
      add: (piece) => {
        if (!pieces) return;
        bytes += piece.length;
        if (bytes > limit) pieces = undefined;
        else pieces.push(piece);
      },
      complete: () => {
        // The mount ended while this listing was sent: kept now, nothing would ever drop it.
        if (!pieces || mount.ended) return;
        const k = `${mountId}\n${key}`;
        const old = this.kept.get(k);
        if (old) this.remove(k, old);
        this.kept.set(k, { mountId, pieces, bytes });
        this.total += bytes;
        pieces = undefined;
        for (const [oldest, v] of this.kept) {
          if (this.total <= this.maxBytes) break;
          this.remove(oldest, v);
        }
      },
    };
  }

  private remove(k: string, v: Kept): void {
    this.kept.delete(k);
    this.total -= v.bytes;
  }
}
