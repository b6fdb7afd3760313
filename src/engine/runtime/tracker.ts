// GPU allocation tracker: every engine buffer is created and destroyed through one of these, so the
// live GPU bytes are known at every moment (Models panel, benchmark, "does it fit" checks).
import { BufferUsage } from './buffers.ts';

const STORAGE_RW = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export interface TrackedBuffer { buffer: GPUBuffer; bytes: number; label: string }

export class GpuAllocator {
  private live = new Map<GPUBuffer, TrackedBuffer>();
  private _liveBytes = 0;
  private _peakBytes = 0;

  constructor(readonly device: GPUDevice) {}

  /** Live bytes allocated through this tracker and not yet destroyed. */
  get liveBytes(): number { return this._liveBytes; }
  get peakBytes(): number { return this._peakBytes; }
  get count(): number { return this.live.size; }

  create(label: string, bytes: number, usage: number, mappedAtCreation = false): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const buffer = this.device.createBuffer({ label, size, usage, mappedAtCreation });
    this.live.set(buffer, { buffer, bytes: size, label });
    this._liveBytes += size;
    this._peakBytes = Math.max(this._peakBytes, this._liveBytes);
    return buffer;
  }

  /** Storage buffer (STORAGE | COPY_SRC | COPY_DST). */
  storage(label: string, bytes: number): GPUBuffer {
    return this.create(label, bytes, STORAGE_RW);
  }

  /** Storage buffer initialised with `data`. */
  upload(label: string, data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
    const buf = this.create(label, data.byteLength, STORAGE_RW, true);
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  /** Uniform buffer (UNIFORM | COPY_DST) initialised with `words`. */
  uniform(label: string, words: Uint32Array | Float32Array | ArrayLike<number>): GPUBuffer {
    const data = words instanceof Uint32Array || words instanceof Float32Array ? words : Uint32Array.from(words);
    const buf = this.create(label, Math.max(16, data.byteLength), BufferUsage.UNIFORM | BufferUsage.COPY_DST, true);
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  destroy(buffer: GPUBuffer): void {
    const t = this.live.get(buffer);
    if (t) { this.live.delete(buffer); this._liveBytes -= t.bytes; }
    buffer.destroy();
  }

  destroyAll(): void {
    for (const b of [...this.live.keys()]) this.destroy(b);
  }

  /** Live bytes grouped by label prefix (text before the first '.' or '['), largest first. */
  summary(): Array<{ kind: string; bytes: number }> {
    const m = new Map<string, number>();
    for (const t of this.live.values()) {
      const kind = t.label.split(/[.[]/)[0];
      m.set(kind, (m.get(kind) ?? 0) + t.bytes);
    }
    return [...m.entries()].map(([kind, bytes]) => ({ kind, bytes })).sort((a, b) => b.bytes - a.bytes);
  }
}
