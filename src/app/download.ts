// The one way the app hands a file to the user: a temporary object URL clicked through a hidden link.

/** Starts a browser download of `data` (text, bytes or a Blob) as `name`. */
export function downloadFile(name: string, data: string | Uint8Array | Blob, type = 'application/octet-stream'): void {
  const blob = data instanceof Blob ? data : new Blob([data as string | Uint8Array<ArrayBuffer>], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
