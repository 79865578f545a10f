/** Synchronous writes, so nothing is lost when the process exits right after. */
const encoder = new TextEncoder();

export function writeAllSync(fd: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(fd.writeSync(bytes));
}

export const printOut = (text: string): void => writeAllSync(Deno.stdout, text);
export const printErr = (text: string): void => writeAllSync(Deno.stderr, text);
