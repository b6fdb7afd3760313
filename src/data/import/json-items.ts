// Streaming reader for JSON files: a top-level array is split into its items while it streams
// (depth/string scanner, each item parsed on its own, so one bad item is reported by line and the
// rest kept). A top-level object is read whole (up to a cap): if it holds one array of objects
// under a key such as "data"/"rows"/"train", that array's items are the rows, else it is one row.

export interface JsonItem {
  /** 1-based index of the item in the array. */
  index: number;
  /** 1-based line where the item starts. */
  line: number;
  value?: unknown;
  error?: string;
  bytes: number;
}

const MAX_OBJECT_CHARS = 256 * 1024 * 1024;

export async function* readJsonItems(stream: ReadableStream<Uint8Array>, opts: { signal?: AbortSignal } = {}): AsyncGenerator<JsonItem> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const reader = stream.getReader();
  let bytes = 0;
  let line = 1;
  // Scanner state.
  let mode: 'start' | 'array' | 'object' | 'done' = 'start';
  let depth = 0; // depth inside the root array (0 = between items)
  let inStr = false;
  let esc = false;
  let scalar = false;
  let buf = ''; // current item text (array mode) or whole text (object mode)
  let itemLine = 0;
  let index = 0;
  let objectText = '';

  try {
    for (;;) {
      if (opts.signal?.aborted) {
        const e = new Error('import cancelled');
        e.name = 'AbortError';
        throw e;
      }
      const { done, value } = await reader.read();
      let chunk: string;
      try {
        chunk = done ? decoder.decode() : decoder.decode(value, { stream: true });
      } catch {
        yield { index: index + 1, line, error: `invalid UTF-8 near line ${line}; the rest of the file was not read`, bytes };
        return;
      }
      if (!done) bytes += value.length;
      let i = 0;
      if (mode === 'start') {
        while (i < chunk.length && /\s|\uFEFF/.test(chunk[i])) {
          if (chunk[i] === '\n') line++;
          i++;
        }
        if (i < chunk.length) {
          if (chunk[i] === '[') {
            mode = 'array';
            i++;
          } else if (chunk[i] === '{') mode = 'object';
          else {
            yield { index: 1, line, error: `expected a JSON array or object, found "${chunk.slice(i, i + 20)}"`, bytes };
            return;
          }
        }
      }
      if (mode === 'object') {
        objectText += chunk.slice(i);
        if (objectText.length > MAX_OBJECT_CHARS) {
          yield { index: 1, line: 1, error: 'top-level JSON object too large to read whole: use a top-level array or JSONL', bytes };
          return;
        }
        if (done) {
          yield* objectItems(objectText, bytes);
          return;
        }
        continue;
      }
      if (mode === 'array') {
        let segStart = depth > 0 ? i : -1;
        for (; i < chunk.length; i++) {
          const c = chunk[i];
          if (c === '\n') line++;
          if (inStr) {
            if (esc) esc = false;
            else if (c === '\\') esc = true;
            else if (c === '"') inStr = false;
            continue;
          }
          if (depth === 0) {
            if (c === ']') {
              mode = 'done';
              break;
            }
            if (c === ',' || c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
            // An item starts; a scalar item (not an object/array) runs to the next , or ].
            depth = 1;
            itemLine = line;
            segStart = i;
            buf = '';
            scalar = c !== '{' && c !== '[';
            if (c === '"') inStr = true;
            continue;
          }
          if (scalar) {
            if (c === ',' || c === ']') {
              buf += chunk.slice(segStart, i);
              index++;
              yield parseItem(buf.trim(), index, itemLine, bytes);
              buf = '';
              segStart = -1;
              depth = 0;
              scalar = false;
              if (c === ']') {
                mode = 'done';
                break;
              }
            } else if (c === '"') inStr = true;
            continue;
          }
          if (c === '"') inStr = true;
          else if (c === '{' || c === '[') depth++;
          else if (c === '}' || c === ']') {
            depth--;
            if (depth === 0) {
              buf += chunk.slice(segStart, i + 1);
              index++;
              yield parseItem(buf, index, itemLine, bytes);
              buf = '';
              segStart = -1;
            }
          }
        }
        if (depth > 0 && segStart >= 0) buf += chunk.slice(segStart);
        if (mode === 'array' && done) {
          if (depth > 0 || inStr) yield { index: index + 1, line: itemLine, error: `truncated JSON: item ${index + 1} starting at line ${itemLine} never closes`, bytes };
          else yield { index: index + 1, line, error: 'truncated JSON: the top-level array never closes', bytes };
          return;
        }
      }
      if (done || mode === 'done') return;
    }
  } finally {
    reader.releaseLock();
  }
}

function parseItem(text: string, index: number, line: number, bytes: number): JsonItem {
  try {
    return { index, line, value: JSON.parse(text), bytes };
  } catch (e) {
    return { index, line, error: `invalid JSON in item ${index}: ${(e as Error).message}`, bytes };
  }
}

const ARRAY_KEYS = ['data', 'rows', 'train', 'test', 'examples', 'items', 'records', 'instances'];

function* objectItems(text: string, bytes: number): Generator<JsonItem> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    yield { index: 1, line: 1, error: `invalid JSON: ${(e as Error).message}`, bytes };
    return;
  }
  const rec = obj as Record<string, unknown>;
  const key = ARRAY_KEYS.find((k) => Array.isArray(rec[k])) ??
    (Object.keys(rec).length === 1 && Array.isArray(Object.values(rec)[0]) && !['messages', 'conversations'].includes(Object.keys(rec)[0]) ? Object.keys(rec)[0] : undefined);
  if (key) {
    const arr = rec[key] as unknown[];
    for (let k = 0; k < arr.length; k++) yield { index: k + 1, line: 0, value: arr[k], bytes };
  } else yield { index: 1, line: 1, value: obj, bytes };
}
